import kafkajs, { type Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { createTopicIfMissing } from '../../../runtime/kafka/create-topic.ts';
import { type KafkaTopicOptions, resolveKafkaTopics } from '../../../runtime/kafka/kafka-topics.ts';

/**
 * The Kafka topic of each entity the bridge produces, created at start with its configured
 * partitions, replication factor and compaction. A topic that exists already is used only if it
 * has the partitions asked for: Kafka's partitioner places a key by the partition count, so a
 * topic with other partitions would put keys elsewhere than every consumer expects. A
 * compaction setting that differs is logged, not refused (it changes retention, not placement).
 */
export class EntityTopics {
  private readonly topics = new Map<string, KafkaTopicOptions>();

  constructor(
    private readonly admin: Admin,
    /** The `topics` setting of the bridge's section of the project file. */
    private readonly configured: unknown,
    private readonly prefix: string,
    private readonly logger: Logger | undefined,
  ) {}

  /** The entities whose topics were ensured. */
  entities(): IterableIterator<string> {
    return this.topics.keys();
  }

  /** The topic options of an entity ensured before; throws for one never ensured (a bug). */
  of(entity: string): KafkaTopicOptions {
    const options = this.topics.get(entity);
    if (!options) throw new Error(`no Kafka topic was ensured for entity ${entity}`);
    return options;
  }

  /**
   * Creates the topics of these entities (with their partition counts in Redis, the default
   * topic partitions) unless they exist with the right partition count. Throws ConfigError for
   * a topic that exists with another partition count, naming both.
   */
  async ensure(entities: ReadonlyMap<string, { partitions: number }>): Promise<void> {
    const wanted = new Map([...entities].filter(([entity]) => !this.topics.has(entity)));
    if (wanted.size === 0) return;
    const resolved = resolveKafkaTopics({ topics: this.settingsFor(wanted) }, this.prefix, wanted);
    for (const [entity, options] of resolved) {
      await this.ensureTopic(entity, options);
      this.topics.set(entity, options);
    }
  }

  /**
   * The configured topics of these entities. Entries of entities the log does not have yet are
   * left for later (a bridge may start before the capture pinned them) and named in a warning,
   * so a misspelt entity does not go unnoticed.
   */
  private settingsFor(entities: ReadonlyMap<string, unknown>): unknown {
    const configured = this.configured ?? {};
    if (typeof configured !== 'object' || Array.isArray(configured)) return configured;
    const settings: Record<string, unknown> = {};
    const unknown: string[] = [];
    for (const [entity, value] of Object.entries(configured)) {
      if (entities.has(entity)) settings[entity] = value;
      else if (!this.topics.has(entity)) unknown.push(entity);
    }
    if (unknown.length > 0)
      this.logger?.warn(
        { entities: unknown },
        'topics configured for entities the log does not have (yet)',
      );
    return settings;
  }

  private async ensureTopic(entity: string, options: KafkaTopicOptions): Promise<void> {
    const created = await createTopicIfMissing(this.admin, {
      topic: options.topic,
      numPartitions: options.partitions,
      replicationFactor: options.replicationFactor,
      configEntries: options.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    });
    if (created) {
      this.logger?.info({ entity, ...options }, 'topic created');
      return;
    }
    const metadata = await this.admin.fetchTopicMetadata({ topics: [options.topic] });
    const actual = metadata.topics[0]?.partitions.length ?? 0;
    if (actual !== options.partitions)
      throw new ConfigError(
        `the Kafka topic ${options.topic} of entity ${entity} exists with ${actual} partitions, ` +
          `but the bridge is configured for ${options.partitions} (topics.${entity}.partitions, ` +
          "default: the entity's partition count). Kafka places keys by the partition count, so " +
          'the bridge will not use it: configure the same count, or use another topic name',
      );
    const configs = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: options.topic,
          configNames: ['cleanup.policy'],
        },
      ],
    });
    const policy = configs.resources[0]?.configEntries.find(
      (entry) => entry.configName === 'cleanup.policy',
    )?.configValue;
    if (policy !== undefined && policy.split(',').includes('compact') !== options.compact)
      this.logger?.warn(
        { entity, topic: options.topic, policy, compact: options.compact },
        'the existing topic has another cleanup.policy than configured; it is used as it is',
      );
  }
}
