/**
 * Runs an example's steps and sets the exit code: 0 when they all passed, 1 with the reason on
 * stderr otherwise. `cleanup` (stopping the services, closing clients) runs once, always, also
 * on Ctrl-C (exit code 130 then).
 */
export async function runExample(
  steps: () => Promise<void>,
  cleanup: () => Promise<void>,
): Promise<void> {
  let cleaning: Promise<void> | undefined;
  const cleanupOnce = (): Promise<void> => {
    cleaning ??= cleanup();
    return cleaning;
  };
  const interrupted = (signal: NodeJS.Signals): void => {
    console.error(`\n== ${signal}: stopping the services`);
    void cleanupOnce()
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let failed = false;
  try {
    await steps();
  } catch (err) {
    failed = true;
    console.error(`\nFAILED: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    await cleanupOnce();
  } catch (err) {
    failed = true;
    console.error(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exitCode = failed ? 1 : 0;
}
