import { Command } from 'commander';
import { envString } from '../../../runtime/config/env.ts';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { CliContext, type GlobalOptions } from './cli-context.ts';
import { deadLettersCommand } from './commands/dead-letters.ts';
import { lagCommand } from './commands/lag.ts';
import { quarantineCommands } from './commands/quarantine.ts';
import { replayCommand } from './commands/replay.ts';
import { schemasCommand } from './commands/schemas.ts';
import { sinksCommand } from './commands/sinks.ts';
import { trimCommand } from './commands/trim.ts';
import { ExitCode } from './exit-codes.ts';

/**
 * Operator commands: consumer lag per sink and partition, the sinks and their instances, dead letters, re-drive and skip of a
 * quarantined key, replays, safe trimming of the partition streams, the schema registry. Environment: REDIS_URL, or
 * REDIS_CLUSTER_NODES for a Redis Cluster (+ REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*), CDC_PREFIX,
 * CDC_RETENTION_MIN_AGE; KAFKA_BROKERS (+ KAFKA_*) to replay a sink that reads Kafka, and for the
 * Kafka figures of `lag`. Every command works the same on one server and on a cluster.
 */
const program = new Command('cdc')
  .description('operate the change-data-capture log')
  .option('--prefix <prefix>', 'Redis key prefix', envString(process.env, 'CDC_PREFIX', 'cdc'))
  .option('--json', 'print results as JSON (snake_case keys) instead of a table')
  // Usage errors exit with 2 (commander's default is 1, which means a request that failed).
  .exitOverride((err) => process.exit(err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage));

const context = () => new CliContext(program.opts<GlobalOptions>());

lagCommand(program, context);
sinksCommand(program, context);
deadLettersCommand(program, context);
quarantineCommands(program, context);
replayCommand(program, context);
trimCommand(program, context);
schemasCommand(program, context);

try {
  await program.parseAsync();
} catch (err) {
  // The project's own errors say what was wrong and what to do: one line, no stack. A bad
  // configuration exits with 2 like a usage error, a failed request with 1; anything else is a
  // bug and keeps its stack.
  if (!(err instanceof CdcError)) throw err;
  console.error(`cdc: ${err.message.replace(/\s+/g, ' ')}`);
  process.exitCode = err instanceof ConfigError ? ExitCode.Usage : ExitCode.Failed;
}
