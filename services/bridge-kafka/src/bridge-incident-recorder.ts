import type { Logger } from 'pino';
import type { Instrumentation } from '../../../runtime/instrumentation/instrumentation.ts';
import type { BridgeIncidents } from '../../../runtime/kafka/bridge-incidents.ts';
import './bridge-events.ts';

/**
 * Counts the bridge's aborted transactions and fenced producers in Redis as they happen, from
 * the same `bridge.*` events as its metrics, so that `cdc lag` (another process, maybe long
 * after this one is gone) shows them. A fenced producer's transaction is aborted too: it counts
 * once in each. A count that cannot be written is logged and lost; the bridge goes on.
 */
export function recordBridgeIncidents(
  instrumentation: Instrumentation,
  incidents: BridgeIncidents,
  logger: Logger | undefined,
): void {
  const count = (sink: string, kind: 'aborted' | 'fenced') => {
    incidents
      .count(sink, kind)
      .catch((err: unknown) =>
        logger?.warn({ err, kind }, 'could not count a bridge incident in Redis'),
      );
  };
  instrumentation.on('bridge.transaction.aborted', (e) => count(e.sink, 'aborted'));
  instrumentation.on('bridge.producer.fenced', (e) => count(e.sink, 'fenced'));
}
