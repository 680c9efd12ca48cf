/**
 * CPU cost of one Kafka record of the bridge, per record, with key and header values given to
 * kafkajs as bytes (`encodeKafkaMessage`, what the bridge sent before) and as text
 * (`kafkaChangeRecord`, what it sends now): building the message, then kafkajs' encoding of it
 * into the record of a produce request (kafkajs' own record encoder, as its producer calls it).
 * No servers.
 *
 *   node --import tsx bench/bridge-kafka/records.ts [--events 20000] [--rounds 7]
 *
 * The events are `todo` upserts as every benchmark writes them (bench/support/todo-record.ts),
 * every 20th a delete; the rounds alternate the two forms so that other work on the machine hits
 * both alike, and the report gives the median per form.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import type { ChangeEvent } from '../../runtime/envelope.ts';
import { encodeKafkaMessage, kafkaChangeRecord } from '../../runtime/kafka/kafka-message.ts';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import { fmt, median } from '../support/numbers.ts';
import { eventsOption, roundsOption } from '../support/options.ts';
import { benchTodo } from '../support/todo-record.ts';

/** kafkajs' encoder of one record (protocol/recordBatch/record/v0), which its typings omit. */
type RecordEncoder = (record: {
  key: Buffer | string;
  value: Buffer | null;
  headers: Record<string, Buffer | string>;
  offsetDelta: number;
  timestampDelta: number;
}) => { size(): number };
const encodeRecord = createRequire(import.meta.url)(
  'kafkajs/src/protocol/recordBatch/record/v0',
) as RecordEncoder;

const program = new Command('bench-bridge-kafka-records')
  .description('CPU per Kafka bridge record: headers as bytes against headers as text')
  .addOption(eventsOption('records per round', 20_000))
  .addOption(roundsOption(7));
program.parse();
const options = program.opts<{ events: number; rounds: number }>();

const type = parseSchema(readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8'));
const events: ChangeEvent[] = Array.from({ length: options.events }, (_, i) => {
  const base = {
    id: `${1_790_000_000_000 + i}-0`,
    entity: 'todo',
    key: `todo-${i % 10_000}`,
    capturedAt: 1_790_000_000_000 + i,
  };
  return i % 20 === 19
    ? { ...base, op: 'delete' }
    : { ...base, op: 'upsert', schemaId: 1, payload: type.toBuffer(benchTodo(i, i % 10_000)) };
});

type Form = 'bytes' | 'text';

/** µs per record of one pass: building the message alone, and building and encoding it. */
function pass(form: Form): { build: number; total: number } {
  let bytes = 0;
  const from = process.cpuUsage();
  const messages = events.map((event) =>
    form === 'bytes' ? encodeKafkaMessage(event, 3) : kafkaChangeRecord(event, 3),
  );
  const built = process.cpuUsage(from);
  messages.forEach((message, i) => {
    bytes += encodeRecord({ ...message, offsetDelta: i % 500, timestampDelta: 0 }).size();
  });
  const used = process.cpuUsage(from);
  if (bytes === 0) throw new Error('nothing encoded');
  return {
    build: (built.user + built.system) / events.length,
    total: (used.user + used.system) / events.length,
  };
}

const results: Record<Form, Array<{ build: number; total: number }>> = { bytes: [], text: [] };
// A first pass of each warms the JIT up; it is not counted.
pass('bytes');
pass('text');
for (let r = 0; r < options.rounds; r++)
  for (const form of r % 2 === 0 ? (['bytes', 'text'] as const) : (['text', 'bytes'] as const))
    results[form].push(pass(form));
const summary = (form: Form) => ({
  build: median(results[form].map((r) => r.build)),
  total: median(results[form].map((r) => r.total)),
});
const bytes = summary('bytes');
const text = summary('text');
console.log(
  `${options.events} records, ${options.rounds} rounds, µs per record (build / build and encode): ` +
    `headers as bytes ${fmt(bytes.build, 2)} / ${fmt(bytes.total, 2)}, ` +
    `as text ${fmt(text.build, 2)} / ${fmt(text.total, 2)} (${fmt(text.total / bytes.total, 2)}x)`,
);
console.log(
  JSON.stringify({ bench: 'bridge-kafka-records', options, bytes, text, rounds: results }),
);
