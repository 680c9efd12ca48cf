import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type ProcessSample, sampleProcess } from '../support/process-sample.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Lines of the service's output kept to explain a failure. */
const KEPT_LINES = 40;
/** How long a service may take to answer /healthz after it is spawned. */
const START_TIMEOUT_MS = 30_000;
/** How long a service may take to stop after SIGTERM. */
const STOP_TIMEOUT_MS = 15_000;

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the service to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * An HTTP service (`node --import tsx <main>`) running as a child process, as it is deployed;
 * ready once its /healthz answers 200, because at LOG_LEVEL=warn it says nothing when it listens.
 */
export class HttpService {
  private readonly output: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly origin: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.output.push(line);
        if (this.output.length > KEPT_LINES) this.output.shift();
      });
    }
  }

  /** Spawns `main` (relative to the repository root) with `env` over this process's environment. */
  static async start(
    main: string,
    port: number,
    env: Record<string, string>,
    unset: readonly string[] = [],
  ): Promise<HttpService> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const name of unset) delete childEnv[name];
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new HttpService(child, `http://127.0.0.1:${port}`);
    await service.ready();
    return service;
  }

  get pid(): number {
    return this.child.pid!;
  }

  sample(): Promise<ProcessSample> {
    return sampleProcess(this.pid);
  }

  /** SIGTERM, as an orchestrator stops it; SIGKILL if it has not stopped 15 s later. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const code = await Promise.race([this.exited, sleep(STOP_TIMEOUT_MS, 'timeout' as const)]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  private async ready(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    while (Date.now() < deadline && !gone) {
      try {
        const response = await fetch(`${this.origin}/healthz`);
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    this.child.kill('SIGKILL');
    throw new Error(
      `${this.origin} did not answer /healthz (${gone ? 'exited' : 'timed out'}):\n${this.output.join('\n')}`,
    );
  }
}
