/**
 * Every Redis key and channel name the project uses is built here and nowhere else; Lua scripts
 * receive them through KEYS. Keys that must be touched by one script share a hash tag so that they
 * land in one Redis Cluster slot:
 *
 * - `{<entity>:<partition>}` — a partition stream, the cache keys whose entity key hashes to that
 *   partition, their idempotency records, the sinks' applied watermarks, leases and quarantines
 *   of that partition.
 * - `{registry}` — the schema registry and entity metadata.
 * - `{dlq:<sink>}` — one sink's dead-letter stream.
 *
 * See https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
export class Keys {
  readonly prefix: string;

  constructor(prefix: string) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(prefix)) {
      throw new TypeError(`key prefix "${prefix}" may only contain letters, digits and _ . : -`);
    }
    this.prefix = prefix;
  }

  private tag(entity: string, partition: number): string {
    return `${this.prefix}:{${entity}:${partition}}`;
  }

  /** The change-event stream of one partition of an entity. */
  stream(entity: string, partition: number): string {
    return `${this.tag(entity, partition)}:events`;
  }

  /** The cached current value of one entity key (a hash: d = JSON record, v = event id, s = schema id). */
  cache(entity: string, partition: number, key: string): string {
    return `${this.tag(entity, partition)}:cache:${key}`;
  }

  /** Remembers the result of a write made with an idempotency key. */
  idempotency(entity: string, partition: number, key: string, idempotencyKey: string): string {
    // Length-prefixed: "x:y" + "z" and "x" + "y:z" must not share a record.
    return `${this.tag(entity, partition)}:idem:${key.length}:${key}:${idempotencyKey}`;
  }

  /** Highest stream id a sink has durably applied in one partition (the applied watermark). */
  watermark(entity: string, partition: number, sink: string): string {
    return `${this.tag(entity, partition)}:applied:${sink}`;
  }

  /**
   * Marks an event a sink passed without applying it (dead-lettered or held), so a write-through
   * waiting for that event learns it failed. Expires: it only serves waiters.
   */
  notApplied(entity: string, partition: number, sink: string, id: string): string {
    return `${this.tag(entity, partition)}:not-applied:${sink}:${id}`;
  }

  /** Pub/sub channel on which sinks announce watermark advances. */
  appliedChannel(): string {
    return `${this.prefix}:applied`;
  }

  /** Which sink instance currently owns a partition. */
  lease(entity: string, partition: number, sink: string): string {
    return `${this.tag(entity, partition)}:lease:${sink}`;
  }

  /**
   * Which sink instance trims a partition stream by itself (a short lease, so that one of the
   * sinks that own the partition trims it, not all of them).
   */
  retentionLease(entity: string, partition: number): string {
    return `${this.tag(entity, partition)}:retention-lease`;
  }

  /** Keys of one partition a sink holds back behind a dead-lettered event (hash key -> reason). */
  quarantine(entity: string, partition: number, sink: string): string {
    return `${this.tag(entity, partition)}:quarantine:${sink}`;
  }

  /** Live instances of a sink (sorted set: instance -> heartbeat expiry in ms). */
  sinkMembers(sink: string): string {
    return `${this.prefix}:{sink:${sink}}:members`;
  }

  /**
   * When one instance of a sink last beat (ms since the epoch), expiring with its membership:
   * the members set holds only the expiry, and `cdc sinks` shows the heartbeat's age.
   */
  sinkHeartbeat(sink: string, consumer: string): string {
    return `${this.prefix}:{sink:${sink}}:heartbeat:${consumer}`;
  }

  /**
   * Replays operators asked of a sink (hash: `<entity>/<partition>` -> the stream id to consume
   * from again), carried out by the instance that owns each partition.
   */
  replayRequests(sink: string): string {
    return `${this.prefix}:{sink:${sink}}:replay`;
  }

  /**
   * The Kafka topics a sink reads instead of the partition streams (hash: entity -> topic),
   * written by its Kafka source: how `cdc replay` knows its positions are Kafka offsets.
   */
  sinkKafkaTopics(sink: string): string {
    return `${this.prefix}:{sink:${sink}}:kafka-topics`;
  }

  /**
   * The sinks that read Kafka (a set of sink names), added by each one's Kafka source: such a
   * sink has no consumer group on the streams, so `cdc lag` finds it here.
   */
  kafkaSourcedSinks(): string {
    return `${this.prefix}:kafka-sourced-sinks`;
  }

  /**
   * Ranges of the partition streams a retention policy trimmed past a sink before it read them
   * (hash: `<entity>/<partition>` -> JSON { from, to, entries, at }): what the sink lost and must
   * get back from Kafka or a backfill. Written by the retention trimmer; README (Retention) says
   * how to read it.
   */
  retentionSkips(sink: string): string {
    return `${this.prefix}:{sink:${sink}}:retention-skips`;
  }

  /**
   * The topics a Kafka bridge produces to (hash: entity -> topic), written by the bridge once
   * it ensured them: how `cdc lag` knows a consumer group is a bridge and where its records go.
   */
  bridgeTopics(sink: string): string {
    return `${this.prefix}:{sink:${sink}}:bridge-topics`;
  }

  /**
   * A Kafka bridge's rare failures, for `cdc lag` in another process (hash: `aborted`, `fenced`
   * -> count since the key was made; `aborted-at`, `fenced-at` -> time of the last one, ms).
   */
  bridgeIncidents(sink: string): string {
    return `${this.prefix}:{sink:${sink}}:bridge-incidents`;
  }

  /** Dead-letter stream of a sink. */
  deadLetters(sink: string): string {
    return `${this.prefix}:{dlq:${sink}}:events`;
  }

  /** Which source entries a sink's dead letters hold (hash: source <-> dead-letter id). */
  deadLetterIndex(sink: string): string {
    return `${this.prefix}:{dlq:${sink}}:sources`;
  }

  /** Schema registry: id -> JSON {entity, version, schema, fingerprint}. */
  registrySchemas(): string {
    return `${this.prefix}:{registry}:schemas`;
  }

  /** Schema registry: the list of schema ids of one entity, oldest first (version = index + 1). */
  registryVersions(entity: string): string {
    return `${this.prefix}:{registry}:versions:${entity}`;
  }

  /** Schema registry: `<entity>:<fingerprint>` -> id, so re-registering a schema is a no-op. */
  registryFingerprints(): string {
    return `${this.prefix}:{registry}:fingerprints`;
  }

  /** Schema registry: the last id handed out. */
  registrySequence(): string {
    return `${this.prefix}:{registry}:seq`;
  }

  /** Entity metadata: entity -> JSON {partitions}. Fixed once set, since it decides key placement. */
  entities(): string {
    return `${this.prefix}:{registry}:entities`;
  }
}
