import { KAFKA_3_9 } from '../helpers/kafka.ts';
import { bridgeKafkaTests } from '../support/bridge-kafka-cases.ts';

bridgeKafkaTests(KAFKA_3_9);
