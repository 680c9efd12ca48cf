import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A project service the example runs: `services/<name>/src/main.ts`. */
export type ServiceName = 'capture' | 'sink-mongo' | 'sink-postgres';

/** One service running as a child process. */
export interface RunningService {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Exit code or signal once it exited, else undefined. */
  exited(): string | undefined;
}

/**
 * Variables of the services that the example sets itself. Inherited values (a CDC_PREFIX or
 * CAPTURE_TOKEN exported for your own project) would point the example at other data.
 */
const OWN_VARIABLES =
  /^(CDC_|CAPTURE_|SINK_|SCHEMAS_DIR$|POSTGRES_SCHEMA$|MONGO_TRANSACTIONS$|LOG_LEVEL$)/;

/** The services of one example run, stopped together. */
export class ServiceGroup {
  private readonly running: RunningService[] = [];

  constructor(private readonly root: string) {
    // Last resort if the example dies without stopping them: no service outlives it.
    process.once('exit', () => {
      for (const service of this.running) {
        if (service.exited() === undefined) service.child.kill('SIGKILL');
      }
    });
  }

  /** Starts `services/<name>/src/main.ts` with `env` on top of the inherited servers' URLs. */
  start(name: ServiceName, env: Record<string, string>): RunningService {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !OWN_VARIABLES.test(key)),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], {
      cwd: this.root,
      env: { ...inherited, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exit: string | undefined;
    child.once('exit', (code, signal) => {
      exit = signal ?? `exit code ${code}`;
    });
    const service: RunningService = {
      name,
      child,
      output: () => output.trim(),
      exited: () => exit,
    };
    this.running.push(service);
    return service;
  }

  /** SIGTERM to each service (they finish the batch in flight), SIGKILL after `graceMs`. */
  async stopAll(graceMs = 15_000): Promise<void> {
    await Promise.all(
      this.running.map(async (service) => {
        if (service.exited() !== undefined) return;
        const gone = new Promise<void>((resolve) => service.child.once('exit', () => resolve()));
        service.child.kill('SIGTERM');
        const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(timer);
      }),
    );
  }
}

/** A TCP port nobody listens on right now, from the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` until it returns a value, failing after `timeoutMs`, or at once when one of
 * `services` exits (its output is in the message).
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; everyMs?: number; services?: readonly RunningService[] },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  while (true) {
    for (const service of options.services ?? []) {
      const exit = service.exited();
      if (exit !== undefined) {
        throw new Error(
          `${service.name} stopped (${exit}) while waiting for ${what}:\n${service.output()}`,
        );
      }
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(options.everyMs ?? 100);
  }
  const reason = last instanceof Error ? `: ${last.message}` : '';
  const logs = (options.services ?? [])
    .filter((s) => s.output() !== '')
    .map((s) => `\n--- ${s.name} said:\n${s.output()}`)
    .join('');
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${reason}${logs}`);
}

/** Waits until the capture service answers `GET /healthz`. */
export async function waitForCapture(baseUrl: string, capture: RunningService): Promise<void> {
  await waitUntil(
    `the capture service at ${baseUrl}`,
    async () => {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? true : undefined;
    },
    { timeoutMs: 30_000, services: [capture] },
  );
}

/**
 * Waits until a sink owns all `partitions` partitions of `entity`, from its `/healthz`
 * (SINK_METRICS_PORT). A sink stopped uncleanly before keeps its leases for SINK_LEASE_MS
 * (10 s), so this can take that long.
 */
export async function waitForSink(
  port: number,
  entity: string,
  partitions: number,
  sink: RunningService,
): Promise<void> {
  await waitUntil(
    `the ${sink.name} service to own the ${partitions} partitions of ${entity}`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { partitions?: string[] };
      const owned = (body.partitions ?? []).filter((p) => p.startsWith(`${entity}/`));
      return owned.length === partitions ? true : undefined;
    },
    { timeoutMs: 45_000, services: [sink] },
  );
}
