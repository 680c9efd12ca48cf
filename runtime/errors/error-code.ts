/**
 * Every code a `CdcError` carries, in one place, so that code branching on them (the HTTP status
 * of each in the capture service) is checked by the compiler to cover them all. The values are
 * stable: they are the `error` field of the capture service's HTTP answers and appear in logs and
 * metrics, so a value never changes once published.
 */
export enum ErrorCode {
  /** Invalid configuration, found at construction. */
  ConfigInvalid = 'CONFIG_INVALID',
  /** A compare-and-set write (a patch) lost its race too many times in a row. */
  Conflict = 'CONFLICT',
  /** A stream entry is not a well-formed change event. */
  EnvelopeInvalid = 'ENVELOPE_INVALID',
  /** The Kafka bridge's producer of a partition was fenced: another instance holds the partition. */
  KafkaProducerFenced = 'KAFKA_PRODUCER_FENCED',
  /** A MongoDB write broke a unique index other than `_id`. */
  MongoConstraintViolated = 'MONGO_CONSTRAINT_VIOLATED',
  /** An event cannot be turned into a MongoDB document. */
  MongoMappingFailed = 'MONGO_MAPPING_FAILED',
  /** A write-through found no sink to confirm it. */
  NoSinks = 'NO_SINKS',
  /** The entity key (or schema) has no value. */
  NotFound = 'NOT_FOUND',
  /** An event's Avro payload cannot be decoded with the schema it names. */
  PayloadUndecodable = 'PAYLOAD_UNDECODABLE',
  /** A stream read failed: no connection, a lost one, a timeout or bytes that are not RESP. */
  RedisReadFailed = 'REDIS_READ_FAILED',
  /** Redis refused a command with an error reply. */
  RedisReplyError = 'REDIS_REPLY_ERROR',
  /** A new schema version cannot read data written with the latest one. */
  SchemaIncompatible = 'SCHEMA_INCOMPATIBLE',
  /** An event names a schema id the registry does not know. */
  SchemaNotFound = 'SCHEMA_NOT_FOUND',
  /** A write reached the Redis master but not the replicas its entity waits for, in time. */
  ReplicationUnconfirmed = 'REPLICATION_UNCONFIRMED',
  /** Redis could not serve a command now: no answer came, or it answered "not now". */
  Unavailable = 'UNAVAILABLE',
  /** A service could not start: a server unreachable or refusing it, its port taken. */
  ServiceStartFailed = 'SERVICE_START_FAILED',
  /** The entity is not configured for capture. */
  UnknownEntity = 'UNKNOWN_ENTITY',
  /** A record does not match its entity's schema. */
  ValidationFailed = 'VALIDATION_FAILED',
  /** A sink dead-lettered (or held) a write-through's event. */
  WriteThroughFailed = 'WRITE_THROUGH_FAILED',
  /** A write-through did not see every required sink apply its event in time. */
  WriteThroughTimeout = 'WRITE_THROUGH_TIMEOUT',
}
