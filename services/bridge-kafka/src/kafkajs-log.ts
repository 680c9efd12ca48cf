import type { logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * kafkajs' log entries into the bridge's logger, at debug level whatever kafkajs calls them:
 * kafkajs logs every retry it makes as an error (each CONCURRENT_TRANSACTIONS after a commit,
 * kafkajs #1315), and what really fails reaches the bridge as an error the runner logs. Set
 * LOG_LEVEL=debug to see them.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, label, log }) => {
      if (!child.isLevelEnabled('debug')) return;
      const { message, ...rest } = log;
      child.debug({ namespace, kafkajsLevel: label, ...rest }, message);
    };
}
