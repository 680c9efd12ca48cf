import type { Redis } from 'ioredis';
import type { Capture } from '../../runtime/capture/capture.ts';
import { decodeEnvelopeTokens } from '../../runtime/envelope.ts';
import { streamEntries } from '../../runtime/resp/stream-entries.ts';
import { StreamReadConnection } from '../../runtime/resp/stream-read-connection.ts';
import { ENTITY, PARTITIONS } from './backlog.ts';

/**
 * CPU per event of turning stream entries into events with decoded records (envelope decode as
 * the runner does it, Avro decode with the reader schema, copy), on entries read beforehand. The
 * PostgreSQL sink transcodes payloads instead of decoding records: this is the cost it avoids.
 */
export async function decodeCost(redis: Redis, capture: Capture): Promise<number> {
  const connection = StreamReadConnection.like(redis);
  const streams = Array.from({ length: PARTITIONS }, (_, p) => capture.keys.stream(ENTITY, p));
  // XREAD replies are shaped like the runner's XREADGROUP ones.
  const reads = streamEntries(
    await connection.command(['XREAD', 'STREAMS', ...streams, ...streams.map(() => '0')], 30_000),
  );
  connection.close();
  const reader = capture.schemaOf(ENTITY);
  const resolver = await capture.registry.resolver(reader.id, reader);
  const decodeAll = () => {
    let n = 0;
    for (const { ids, reply, fieldsAt, fieldItems } of reads) {
      for (let i = 0; i < ids.length; i++) {
        const event = decodeEnvelopeTokens(ids[i]!, reply, fieldsAt[i]!, fieldItems[i]!);
        const record = { ...(reader.type.fromBuffer(event.payload!, resolver) as object) };
        if (record) n++;
      }
    }
    return n;
  };
  decodeAll(); // warm-up
  const cpu = process.cpuUsage();
  const n = decodeAll();
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}
