import type { KafkaMessage } from 'kafkajs';
import { type ChangeEvent, encodeEnvelope } from '../../envelope.ts';
import { EnvelopeError } from '../../errors/envelope-error.ts';
import { decodeKafkaMessage } from '../../kafka/kafka-message.ts';
import type { PartitionRef } from '../../partition-id.ts';
import { type SourceRead, VERSION_FIELD } from './event-source.ts';
import { positionAfter } from './kafka-position.ts';

/**
 * Messages of one Kafka partition of an entity's topic, as a `SourceRead`: positions are the
 * offsets (`kafka-position.ts`), envelopes the change events the bridge produced (their ids, the
 * versions, from the `cdc.stream_id` header).
 */
export class KafkaRead implements SourceRead {
  readonly ids: readonly string[];

  constructor(
    readonly ref: PartitionRef,
    private readonly topic: string,
    private readonly partition: number,
    private readonly messages: readonly KafkaMessage[],
  ) {
    this.ids = messages.map((m) => positionAfter(m.offset));
  }

  /** Kafka hands over what it holds; nothing is deleted between delivery and reading. */
  deleted(): boolean {
    return false;
  }

  /** Throws EnvelopeError for a message that is not a change event of this topic's entity. */
  envelope(index: number): ChangeEvent {
    const { event } = decodeKafkaMessage(this.messages[index]!);
    if (event.entity !== this.ref.entity)
      throw new EnvelopeError(
        `message of entity ${event.entity} in ${this.topic}, the topic of ${this.ref.entity}`,
      );
    return event;
  }

  /**
   * For dead letters. A change event keeps the fields it had in its partition stream, so that a
   * re-drive decodes it as it would from there, and its version (`VERSION_FIELD`), since its
   * position is not its version. A message that is not one keeps what Kafka delivered: where it
   * was, its key, value and headers, for an operator to look at.
   */
  fields(index: number): Buffer[] {
    const message = this.messages[index]!;
    try {
      const event = this.envelope(index);
      const fields = encodeEnvelope(event).map((f) => (typeof f === 'string' ? Buffer.from(f) : f));
      fields.push(Buffer.from(VERSION_FIELD), Buffer.from(event.id));
      return fields;
    } catch {
      const fields: Buffer[] = [
        Buffer.from('kafka.topic'),
        Buffer.from(this.topic),
        Buffer.from('kafka.partition'),
        Buffer.from(String(this.partition)),
        Buffer.from('kafka.offset'),
        Buffer.from(message.offset),
      ];
      if (message.key) fields.push(Buffer.from('kafka.key'), message.key);
      if (message.value) fields.push(Buffer.from('kafka.value'), message.value);
      for (const [name, value] of Object.entries(message.headers ?? {}))
        for (const v of Array.isArray(value) ? value : [value])
          if (v !== undefined) fields.push(Buffer.from(`kafka.header.${name}`), Buffer.from(v));
      return fields;
    }
  }

  /** The message key: the entity key the bridge keyed it by. */
  rawKey(index: number): string {
    return this.messages[index]!.key?.toString() ?? '';
  }
}
