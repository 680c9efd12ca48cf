import { KAFKA_4 } from '../helpers/kafka.ts';
import { bridgeKafkaTests } from '../support/bridge-kafka-cases.ts';

bridgeKafkaTests(KAFKA_4);
