export { createTopicIfMissing } from '../../../runtime/kafka/create-topic.ts';
