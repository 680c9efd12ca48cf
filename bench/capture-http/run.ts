/**
 * Capture over HTTP: open-loop load on the capture service as deployed, beside a bare fastify
 * route that only XADDs the body, and write-through with the PostgreSQL sink, in one run.
 *
 *   node --import tsx bench/capture-http/run.ts [--seconds 6] [--rates 1000,2000,...,10000]
 *        [--report-rates 1000,2000,5000] [--through-rates 1000,2000] [--connections 32]
 *        [--through-connections 256]
 *        [--keys 100000] [--p99-limit 50] [--max-in-flight 5000] [--warmup 3] [--skip-through]
 *
 * Every option can also come from the environment (BENCH_SECONDS, BENCH_RATES, ...; see
 * `--help`); REDIS_URL and POSTGRES_URL say where the servers are.
 *
 * Load: a generator in a child process of its own (load-generator.ts) sends `PUT
 * /entities/todo/todo-<k>` with the benchmarks' todo as body (without its id: the URL gives the
 * key), k drawn at random from `--keys`, over a keep-alive undici Pool of `--connections` (`--through-connections` for write-through, whose
 * requests stay out for the sink's cycle: rate x latency of them must fit). It is
 * open-loop: request i of a step is due at start + i / rate and sent then whatever is still
 * outstanding, and its latency runs from that due time, so a subject that falls behind shows it
 * in its latencies instead of slowing the load (no coordinated omission). A request is dropped
 * (and counted) when `--max-in-flight` are already out, and one not answered in 10 s is an error.
 *
 * Subjects, each a child process started as deployed:
 * - capture: `services/capture/src/main.ts` on a fresh CDC_PREFIX, LOG_LEVEL=warn, the schemas
 *   of schemas/ (4 partitions), writes in its default mode (write-behind);
 * - bare route: `bare-route.ts`, fastify + ioredis, one XADD of the JSON body to one stream
 *   (the raw baseline: HTTP, JSON parsing and one Redis round trip, nothing of capture's work);
 * - with the sink: a second capture service on another fresh prefix with
 *   `services/sink-postgres/src/main.ts` running (fresh POSTGRES_SCHEMA, deployed defaults),
 *   written in write-through mode (`X-Write-Mode: through`) at `--through-rates`, then in
 *   write-behind mode at 1000/s for comparison. Those steps also time the sink's watermark
 *   announcements (how old a batch's newest and oldest events are when announced, how often a
 *   partition is announced), which splits a write-through's wait into the sink's cycle and what
 *   capture adds after it.
 *
 * Capture and bare route climb `--rates` together, `--seconds` per step, alternating which goes
 * first at each rate, after `--warmup` unmeasured seconds at 1000/s each. A subject stops climbing
 * at its first rate whose p99 is at or over `--p99-limit` ms or that had an error or a drop; its
 * highest sustained rate is the last rate below that. The `--report-rates` are run for both
 * subjects even above that. Every step also reports the subject process's CPU time and the Redis
 * server's (INFO cpu, all its clients) per answered request, to show where the time goes.
 *
 * Redis keys live under fresh prefixes and the sink's tables in a fresh schema, all removed at the
 * end with the child processes, also after Ctrl-C.
 *
 * Files: options.ts (command line), bench-run.ts (connections, names, cleanup), subjects.ts and
 * http-service.ts (the child services), load-client.ts and load-generator.ts (the generator and
 * its protocol, load-step.ts), measure-step.ts (one step), ladder.ts (the climb),
 * announcement-monitor.ts (the sink's cycle as write-through hears it), report.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fmt } from '../support/numbers.ts';
import { AnnouncementMonitor } from './announcement-monitor.ts';
import { BenchRun } from './bench-run.ts';
import { climb } from './ladder.ts';
import { LoadClient } from './load-client.ts';
import { type MeasuredStep, measureStep } from './measure-step.ts';
import { parseOptions } from './options.ts';
import { printReport } from './report.ts';
import { type Subject, startBareRoute, startCapture, startPostgresSink } from './subjects.ts';

/** Rate of the unmeasured warm-up, writes/s. */
const WARMUP_RATE = 1000;

async function warmUp(run: BenchRun, subject: Subject, mode?: 'behind' | 'through'): Promise<void> {
  const step = await measureStep(run, subject, WARMUP_RATE, mode, run.options.warmup);
  if (step.errors > 0) {
    throw new Error(`${subject.label} failed while warming up: ${step.firstError}`);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const run = await BenchRun.open(options);
  const started = performance.now();
  try {
    run.log(
      `capture-http bench: rates ${options.rates.join(', ')}/s, ${options.seconds} s each, ` +
        `${options.connections} connections (${options.throughConnections} write-through), ${options.keys} keys, p99 limit ${options.p99Limit} ms`,
    );
    run.generator = await LoadClient.start();
    const bare = await startBareRoute(run);
    const capture = await startCapture(run, 'capture', 'capture', options.connections);
    for (const subject of [bare, capture]) await warmUp(run, subject);
    const [bareLadder, captureLadder] = await climb(run, [bare, capture]);

    const withSink: MeasuredStep[] = [];
    if (!options.skipThrough) {
      // Its own prefix: the sink starts on empty streams, not on the ladder's backlog.
      const subject = await startCapture(
        run,
        'through',
        'capture + sink',
        options.throughConnections,
      );
      await startPostgresSink(run, 'through');
      await warmUp(run, subject, 'through');
      // Times the sink's announcements as the waiter hears them: the sink's cycle, apart from
      // what capture adds after it.
      const monitor = await AnnouncementMonitor.start(
        run.redis,
        `${run.prefix('through')}:applied`,
      );
      try {
        for (const [rate, mode] of [
          ...options.throughRates.map((r) => [r, 'through'] as const),
          [1000, 'behind'] as const,
        ]) {
          const step = await measureStep(run, subject, rate, mode, options.seconds, monitor);
          withSink.push(step);
          run.log(
            `capture + sink, ${mode} @ ${rate}/s: p50 ${fmt(step.p50)} ms, p99 ${fmt(step.p99)} ms, ` +
              `${step.errors} errors, ${step.dropped} dropped` +
              (step.firstError ? ` (${step.firstError})` : ''),
          );
          await sleep(1000);
        }
      } finally {
        monitor.close();
      }
    }
    const loads = [...bareLadder!.steps, ...captureLadder!.steps, ...withSink].map((s) => s.load1);
    printReport({
      options,
      ...(await run.versions()),
      bare: bareLadder!,
      capture: captureLadder!,
      withSink,
      loads,
      runSeconds: Math.round((performance.now() - started) / 1000),
    });
  } finally {
    await run.close();
  }
}

await main();
