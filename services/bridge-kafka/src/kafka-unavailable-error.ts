export { KafkaUnavailableError } from '../../../runtime/errors/kafka-unavailable-error.ts';
