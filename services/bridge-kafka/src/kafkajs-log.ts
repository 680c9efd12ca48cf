import kafkajs, { type KafkaConfig, type logCreator } from 'kafkajs';
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

/**
 * kafkajs' logging settings for the bridge: its entries to `logger` at debug level when the
 * logger writes debug entries, and none otherwise (kafkajs logs to the console unless told
 * otherwise). kafkajs is not simply left at DEBUG with the entries filtered here: at DEBUG it
 * builds an entry (a timestamp string, copies of its fields) for every request and response
 * before any filter sees it.
 */
export function kafkajsLogging(
  logger: Logger | undefined,
): Pick<KafkaConfig, 'logLevel' | 'logCreator'> {
  if (!logger?.isLevelEnabled('debug')) return { logLevel: kafkajs.logLevel.NOTHING };
  return { logLevel: kafkajs.logLevel.DEBUG, logCreator: kafkajsLogCreator(logger) };
}
