/**
 * The applied-watermark contract between sinks and write-through callers.
 *
 * - Key `Keys.watermark(entity, partition, sink)` holds the highest stream id the sink has
 *   durably applied (committed in its database) in that partition. It only moves forward.
 * - After moving it, the sink publishes a `WatermarkMessage` as JSON on `Keys.appliedChannel()`.
 * - A waiter subscribes first, then reads the keys, so it cannot miss an advance that happens
 *   between the two; it also re-reads them periodically in case a message was lost while its
 *   subscriber connection was reconnecting (pub/sub is at-most-once).
 */
export interface WatermarkMessage {
  sink: string;
  entity: string;
  partition: number;
  /** Stream id the sink has applied up to, inclusive. */
  id: string;
}

export function parseWatermarkMessage(text: string): WatermarkMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<WatermarkMessage>;
    if (
      typeof value.sink === 'string' &&
      typeof value.entity === 'string' &&
      typeof value.partition === 'number' &&
      typeof value.id === 'string'
    ) {
      return value as WatermarkMessage;
    }
  } catch {
    // Not ours: the channel is shared, ignore anything malformed.
  }
  return undefined;
}
