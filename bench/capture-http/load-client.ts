import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GeneratorReply, LoadStep, StepResult } from './load-step.ts';

const GENERATOR = fileURLToPath(new URL('./load-generator.ts', import.meta.url));

/**
 * The load generator's child process seen from the run: one step at a time. The generator runs in
 * a process of its own so that sending and timing never wait on the subject's event loop, nor on
 * this one's.
 */
export class LoadClient {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadClient> {
    const child = fork(GENERATOR, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const client = new LoadClient(child);
    await client.next('ready');
    return client;
  }

  async run(step: LoadStep): Promise<StepResult> {
    const answer = this.next('result');
    this.child.send({ type: 'step', step });
    const reply = await answer;
    if (reply.type !== 'result') throw new Error('load generator: unexpected reply');
    return reply.result;
  }

  /** Closes the pools and lets the child end; kills it if it does not within 5 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private next(type: GeneratorReply['type']): Promise<GeneratorReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: GeneratorReply) => {
        cleanup();
        if (message.type === 'failed') reject(new Error(`load generator: ${message.message}`));
        else if (message.type !== type) reject(new Error(`load generator sent ${message.type}`));
        else resolve(message);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`load generator exited with ${code}`));
      };
      const cleanup = () => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.on('exit', onExit);
    });
  }
}
