import type avro from 'avsc';
import type { Document } from 'mongodb';
import type { RegisteredSchema } from '../../../runtime/schema/schema-registry.ts';
import type { SinkEvent } from '../../../runtime/sink/sink.ts';
import { type DocumentMapping, liveDocument } from './mongo-document.ts';
import {
  compileDocumentDecoder,
  type PayloadDocumentDecoder,
  parseBsonSchema,
} from './payload-document-decoder.ts';

/**
 * The live documents of one entity's upserts, decoded from their payloads by one decoder per
 * writer schema, built on first use (payload-document-decoder.ts). An event the decoder cannot
 * take (no payload, a schema it does not cover, a payload it cannot decode, a value the sink
 * cannot store) goes the record path instead, `liveDocument` with the record the runtime decodes:
 * that path reports what is wrong as the sink always has (PayloadError for an undecodable
 * payload, MongoMappingError naming the field for a value that does not fit), so the fast path
 * never has to word an error of its own.
 */
export class DocumentDecoders {
  private readonly decoders = new Map<number, PayloadDocumentDecoder | null>();
  private readerType: avro.Type | undefined;

  constructor(
    readonly mapping: DocumentMapping,
    /** The schema `mapping` was built from: the reader the runtime resolves payloads to. */
    private readonly reader: RegisteredSchema,
  ) {}

  /** The document an upsert replaces the stored one with (see `liveDocument`). */
  liveDocument(event: SinkEvent, version: string): Document {
    const decoder = this.decoderOf(event);
    if (decoder) {
      try {
        return decoder.document(event.payload!, version);
      } catch {
        // The record path below either throws the error the sink has always given, or (should the
        // two paths ever disagree) builds the document the sink has always built.
      }
    }
    return liveDocument(this.mapping, event, version);
  }

  /**
   * Throws PayloadError when an upsert that will not be written (a later event of its key
   * supersedes it) could not be decoded: it must reach the dead letters as it did when the runtime
   * decoded every record ahead. A value the sink could not store is no error here: it is not stored.
   */
  check(event: SinkEvent): void {
    if (event.op !== 'upsert') return;
    const decoder = this.decoderOf(event);
    if (decoder) {
      try {
        decoder.check(event.payload!);
        return;
      } catch {
        // Decided by the record path below.
      }
    }
    void event.record; // decoding it is the check: it throws PayloadError
  }

  private decoderOf(event: SinkEvent): PayloadDocumentDecoder | undefined {
    const { payload, writer } = event;
    if (!payload || !writer) return undefined;
    let decoder = this.decoders.get(writer.id);
    if (decoder === undefined) {
      decoder = this.compile(writer) ?? null;
      this.decoders.set(writer.id, decoder);
    }
    return decoder ?? undefined;
  }

  private compile(writer: RegisteredSchema): PayloadDocumentDecoder | undefined {
    try {
      this.readerType ??= parseBsonSchema(this.reader);
      const same = writer.id === this.reader.id;
      const writerType = same ? this.readerType : parseBsonSchema(writer);
      return compileDocumentDecoder(this.mapping, this.readerType, writerType, same);
    } catch {
      // A schema the document path cannot read as the runtime does: the record path reads it.
      return undefined;
    }
  }
}
