import type { Logger } from 'pino';
import { startFailure } from './start-failure.ts';

/**
 * Runs a service's start and ends the process when it fails: a failure an operator can fix is
 * one log line (what failed, where, what to do) and its documented exit code (README, "Exit
 * codes of the services"); anything else is logged with its stack and exits 1.
 */
export async function runServiceMain(logger: Logger, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    const failure = startFailure(error);
    if (failure) {
      logger.fatal({ failure: failure.kind, exitCode: failure.exitCode }, failure.message);
      process.exit(failure.exitCode);
    }
    logger.fatal({ err: error }, 'the service stopped on an unexpected error');
    process.exit(1);
  }
}
