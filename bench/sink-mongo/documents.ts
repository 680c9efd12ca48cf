/**
 * CPU cost of building the MongoDB sink's documents from captured payloads, per document, on the
 * two paths the sink has: the payload decoder (payload-document-decoder.ts, what the sink does
 * now) and the record path (the runtime decodes the record with the project's logical types,
 * then bson-value.ts converts it, what the sink did before it read payloads itself). No servers.
 *
 *   node --import tsx bench/sink-mongo/documents.ts [--events 20000] [--rounds 7]
 *
 * The payloads are `todo` records as every benchmark writes them (bench/support/todo-record.ts);
 * the rounds alternate the two paths so that other work on the machine hits both alike, and the
 * report gives the median per path.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { fingerprintOf, parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import { DecodedEvent } from '../../runtime/sink/decoded-event.ts';
import { DocumentDecoders } from '../../services/sink-mongo/src/document-decoders.ts';
import {
  buildDocumentMapping,
  liveDocument,
} from '../../services/sink-mongo/src/mongo-document.ts';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import { fmt, median } from '../support/numbers.ts';
import { eventsOption, roundsOption } from '../support/options.ts';
import { benchTodo } from '../support/todo-record.ts';

const program = new Command('bench-sink-mongo-documents')
  .description('CPU per MongoDB sink document: payload decoder against the record path')
  .addOption(eventsOption('payloads per round', 20_000))
  .addOption(roundsOption(7));
program.parse();
const options = program.opts<{ events: number; rounds: number }>();

const text = readFileSync(new URL('../../schemas/todo.avsc', import.meta.url), 'utf8');
const type = parseSchema(text);
const schema: RegisteredSchema = {
  id: 1,
  entity: 'todo',
  version: 1,
  fingerprint: fingerprintOf(type),
  schema: text,
  type,
};
const mapping = buildDocumentMapping('todo', type, 'id', 'todo');
const events = Array.from({ length: options.events }, (_, i) => ({
  id: `${1_790_000_000_000 + i}-0`,
  op: 'upsert' as const,
  entity: 'todo',
  key: `todo-${i}`,
  schemaId: 1,
  payload: type.toBuffer(benchTodo(i, i)),
  capturedAt: 0,
}));

/** µs per document of one pass; each pass gets fresh events, as the sink gets fresh reads. */
function pass(path: 'payload' | 'record'): number {
  const fresh = events.map((e) => new DecodedEvent(e, schema, schema, undefined));
  const decoders = new DocumentDecoders(mapping, schema);
  let fields = 0;
  const from = process.cpuUsage();
  for (const event of fresh) {
    const version = encodeVersion(event.id);
    const document =
      path === 'payload'
        ? decoders.liveDocument(event, version)
        : liveDocument(mapping, event, version);
    fields += Object.keys(document).length;
  }
  const used = process.cpuUsage(from);
  if (fields !== fresh.length * 7) throw new Error(`unexpected documents (${fields} fields)`);
  return (used.user + used.system) / fresh.length;
}

const results = { payload: [] as number[], record: [] as number[] };
// A first pass of each warms the JIT up; it is not counted.
pass('payload');
pass('record');
for (let r = 0; r < options.rounds; r++) {
  for (const path of r % 2 === 0
    ? (['payload', 'record'] as const)
    : (['record', 'payload'] as const))
    results[path].push(pass(path));
}
const payload = median(results.payload);
const record = median(results.record);
console.log(
  `${options.events} todo payloads, ${options.rounds} rounds: payload decoder ${fmt(payload, 2)} µs/document, ` +
    `record path ${fmt(record, 2)} µs/document (${fmt(payload / record, 2)}x)`,
);
console.log(
  JSON.stringify({ bench: 'sink-mongo-documents', options, payload, record, rounds: results }),
);
