import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type ProcessSample, sampleProcess } from './process-sample.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Lines of the service's output kept to explain a failure. */
const KEPT_LINES = 40;
/** How long a service may take to stop after SIGTERM. */
const STOP_TIMEOUT_MS = 15_000;

/** What a sink service is started with. */
export interface ChildSinkOptions {
  /** The service's main module, relative to the repository root. */
  main: string;
  /** REDIS_URL. */
  redisUrl: string;
  /** CDC_PREFIX. */
  prefix: string;
  /** SINK_NAME; SINK_CONSUMER is `<sinkName>-bench`. */
  sinkName: string;
  /** SINK_BATCH_SIZE. */
  batchSize: number;
  /** SINK_BLOCK_MS. */
  blockMs: number;
  /** The sink's own settings (its database), set over this process's environment. */
  env: Record<string, string>;
  /**
   * Variables of this process's environment the service must not see, besides CDC_CONFIG: set in
   * the caller's shell, they would change what runs. Default none.
   */
  unset?: readonly string[];
  /** Node flags before `--import tsx`. Default none, as deployed. */
  nodeArgs?: readonly string[];
}

/**
 * A sink service (`services/sink-<name>/src/main.ts`) running as a child process, launched as
 * scripts/up.sh and docker-compose.yml launch it: its own Node, its own event loop, so that what
 * is measured is what is deployed.
 */
export class ChildSink {
  /** Resolves with the epoch ms of the service's "sink started" log line. */
  readonly started: Promise<number>;
  private readonly exited: Promise<number | null>;
  /** Its stderr and its error log lines, the last few. */
  private readonly output: string[] = [];
  private readonly spawnedAt = Date.now();

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    createInterface({ input: child.stderr! }).on('line', (line) => this.keep(line));
    const lines = createInterface({ input: child.stdout! });
    this.started = new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        let entry: { msg?: string; time?: number; level?: number } | undefined;
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        if (entry?.msg === 'sink started') resolve(entry.time ?? Date.now());
        // pino level 50 = error: a stuck service would otherwise only show up as a timeout.
        else if ((entry?.level ?? 0) >= 50) this.keep(line);
      });
      void this.exited.then((code) =>
        reject(new Error(`sink exited with ${code} before starting:\n${this.recentOutput()}`)),
      );
    });
    this.started.catch(() => undefined);
  }

  static spawn(options: ChildSinkOptions): ChildSink {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: options.redisUrl,
      CDC_PREFIX: options.prefix,
      SINK_NAME: options.sinkName,
      SINK_CONSUMER: `${options.sinkName}-bench`,
      SINK_BATCH_SIZE: String(options.batchSize),
      SINK_BLOCK_MS: String(options.blockMs),
      SINK_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...options.env,
    };
    for (const name of ['CDC_CONFIG', ...(options.unset ?? [])]) delete env[name];
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--import', 'tsx', options.main],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new ChildSink(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** ms from spawn to the "sink started" line. */
  async startupMs(): Promise<number> {
    return (await this.started) - this.spawnedAt;
  }

  sample(): Promise<ProcessSample> {
    return sampleProcess(this.pid);
  }

  /** The service's last stderr and error lines, to say why it failed. */
  recentOutput(): string {
    return this.output.join('\n');
  }

  /**
   * Reads the final figures, then stops the service with SIGTERM as an orchestrator would; one
   * that has not stopped 15 s later is killed and reported. Undefined when it had exited already.
   */
  async stop(): Promise<ProcessSample | undefined> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return undefined;
    const last = await this.sample().catch(() => undefined);
    this.child.kill('SIGTERM');
    const code = await Promise.race([this.exited, sleep(STOP_TIMEOUT_MS, 'timeout' as const)]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`sink ${this.pid} did not stop within 15 s of SIGTERM`);
    }
    return last;
  }

  /** SIGKILL, for a run that failed and is leaving at once. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  private keep(line: string): void {
    this.output.push(line);
    if (this.output.length > KEPT_LINES) this.output.shift();
  }
}
