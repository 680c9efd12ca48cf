import { type ChangeEvent, decodeEnvelopeTokens } from '../../envelope.ts';
import type { PartitionRef } from '../../partition-id.ts';
import { entryFields, type StreamEntries } from '../../resp/stream-entries.ts';
import type { SourceRead } from './event-source.ts';

const KEY = Buffer.from('key');

/** The entries of one partition stream in an XREADGROUP reply, as a `SourceRead`. */
export class StreamRead implements SourceRead {
  readonly ids: readonly string[];

  constructor(
    readonly ref: PartitionRef,
    private readonly entries: StreamEntries,
  ) {
    this.ids = entries.ids;
  }

  deleted(index: number): boolean {
    return this.entries.fieldsAt[index]! < 0;
  }

  envelope(index: number): ChangeEvent {
    const { reply, fieldsAt, fieldItems, ids } = this.entries;
    return decodeEnvelopeTokens(ids[index]!, reply, fieldsAt[index]!, fieldItems[index]!);
  }

  fields(index: number): Buffer[] {
    return entryFields(this.entries, index) ?? [];
  }

  rawKey(index: number): string {
    // Compared as bytes: no string per field name.
    const fields = this.fields(index);
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i]!.equals(KEY)) return fields[i + 1]!.toString();
    return '';
  }
}
