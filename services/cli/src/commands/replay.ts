import type { Command } from 'commander';
import { consumerGroups } from '../../../../runtime/consumer-groups.ts';
import { kafkaConnectionFromEnv } from '../../../../runtime/kafka/kafka-connection.ts';
import { ReplayRequests } from '../../../../runtime/sink/replay-requests.ts';
import { requestKafkaReplay } from '../../../../runtime/sink/source/kafka-replay.ts';
import { KafkaSourcedSinks } from '../../../../runtime/sink/source/kafka-sourced-sinks.ts';
import { countEntries } from '../../../../runtime/stream-count.ts';
import { isStreamId, ZERO_ID } from '../../../../runtime/stream-id.ts';
import type { ContextOf } from '../cli-context.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Row } from '../output.ts';
import { partitionsOf } from '../partitions.ts';
import { progressLine } from '../progress-bar.ts';
import type { ReplayTarget } from '../replay-progress.ts';
import { waitForReplay } from '../replay-wait.ts';

interface ReplayOptions {
  sink: string;
  entity?: string;
  fromStart?: boolean;
  fromTime?: string;
  fromOffset?: string;
  dryRun?: boolean;
  wait?: boolean;
  timeout: string;
}

/** `cdc replay`: a sink consumes its partitions again from a point of the log. */
export function replayCommand(program: Command, context: ContextOf): void {
  program
    .command('replay')
    .description(
      'consume a sink’s partitions again from a point of the log (after an outage or a restore that lost writes); the instances that own them carry it out between two batches',
    )
    .requiredOption('--sink <name>', 'sink name')
    .option('--entity <entity>', 'only this entity')
    .option('--from-start', 'from the oldest entry still in the streams')
    .option('--from-time <iso>', 'from the first entry captured at or after this time')
    .option(
      '--from-offset <id>',
      'from this stream id on (inclusive); a Kafka offset for a sink reading Kafka',
    )
    .option('--dry-run', 'report how many entries each partition would read again, ask for nothing')
    .option(
      '--wait',
      'then follow the replay until the sink has applied every partition up to where its stream ended when the replay was asked for',
    )
    .option(
      '--timeout <seconds>',
      `with --wait: give up after so long, exit code ${ExitCode.Timeout}`,
      '600',
    )
    .action(async (options: ReplayOptions) => {
      const cli = context();
      const timeoutS = Number(options.timeout);
      if (options.wait && (options.dryRun || !(timeoutS > 0))) {
        console.error(
          '--wait asks for a replay and follows it: not with --dry-run; --timeout takes a positive number of seconds',
        );
        process.exitCode = ExitCode.Usage;
        return;
      }
      const starts = [options.fromStart, options.fromTime, options.fromOffset].filter(
        (o) => o !== undefined,
      );
      const time = options.fromTime === undefined ? undefined : Date.parse(options.fromTime);
      // A sink reading Kafka replays from Kafka offsets or times.
      const topics = await cli.withRedis((redis, keys) =>
        new KafkaSourcedSinks(redis, keys).topicsOf(options.sink),
      );
      if (topics.size > 0) {
        if (options.wait) {
          console.error(
            `sink "${options.sink}" reads Kafka: --wait follows replays of the partition streams only (watch this one with \`cdc lag\`)`,
          );
          process.exitCode = ExitCode.Usage;
          return;
        }
        if (
          starts.length !== 1 ||
          (time !== undefined && Number.isNaN(time)) ||
          (options.fromOffset !== undefined && !/^\d+$/.test(options.fromOffset))
        ) {
          console.error(
            `sink "${options.sink}" reads Kafka: give one of --from-start, --from-time <ISO time>, --from-offset <Kafka offset>, well formed`,
          );
          process.exitCode = ExitCode.Usage;
          return;
        }
        const only = new Map([...topics].filter(([e]) => !options.entity || e === options.entity));
        const planned = await cli.withRedis((redis, keys) =>
          requestKafkaReplay({
            kafka: kafkaConnectionFromEnv(process.env, 'cdc-cli'),
            redis,
            keys,
            sink: options.sink,
            topics: only,
            start:
              time !== undefined
                ? { from: 'time', ms: time }
                : options.fromOffset !== undefined
                  ? { from: 'offset', offset: BigInt(options.fromOffset) }
                  : { from: 'start' },
            dryRun: options.dryRun === true,
          }),
        );
        cli.out.rows(
          planned.map((p) => ({
            entity: p.entity,
            partition: p.partition,
            topic: p.topic,
            'after offset': p.after,
            'entries to read again': p.entries,
          })),
        );
        if (planned.length === 0) process.exitCode = ExitCode.Failed;
        return;
      }
      if (
        starts.length !== 1 ||
        (time !== undefined && Number.isNaN(time)) ||
        (options.fromOffset !== undefined && !isStreamId(options.fromOffset))
      ) {
        console.error(
          'give one of --from-start, --from-time <ISO time>, --from-offset <stream id>, well formed',
        );
        process.exitCode = ExitCode.Usage;
        return;
      }
      // Entries after this one are read again ("(" makes an XREVRANGE end exclusive).
      const before =
        time !== undefined
          ? `(${time}-0`
          : options.fromOffset
            ? `(${options.fromOffset}`
            : undefined;
      await cli.withRedis(async (redis, keys) => {
        const partitions = await partitionsOf(redis, keys, options.entity);
        if (!partitions) return;
        const rows: Row[] = [];
        const targets: ReplayTarget[] = [];
        const requests = new ReplayRequests(redis, keys, options.sink);
        for (const { entity, partition } of partitions) {
          const stream = keys.stream(entity, partition);
          if (!(await consumerGroups(redis, stream)).some((g) => g.name === options.sink)) continue;
          const [previous] = before ? await redis.xrevrange(stream, before, '-', 'COUNT', 1) : [];
          const from = previous?.[0] ?? ZERO_ID;
          // Where the stream ends now: --wait follows the replay up to here.
          const [last] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
          const end = last?.[0] ?? ZERO_ID;
          const entries = await countEntries(redis, stream, `(${from}`, end);
          if (!options.dryRun) await requests.request(entity, partition, from);
          rows.push({ entity, partition, 'after id': from, 'entries to read again': entries });
          targets.push({ entity, partition, from, end, entries });
        }
        if (rows.length === 0) {
          console.error(
            `sink "${options.sink}" consumes no partition${options.entity ? ` of "${options.entity}"` : ''}`,
          );
          process.exitCode = ExitCode.Failed;
          return;
        }
        cli.out.rows(rows);
        if (!options.wait) {
          if (!options.dryRun && !cli.json)
            cli.out.line(
              'replay requested; the instance that owns each partition carries it out between two batches (watch it with `cdc lag`; with --wait, `cdc replay` follows it to the end)',
            );
          return;
        }
        // With --json, stdout holds the one JSON document: progress goes to stderr.
        const { caughtUp, step } = await waitForReplay(redis, keys, options.sink, targets, {
          timeoutMs: timeoutS * 1000,
          stream: cli.json ? process.stderr : process.stdout,
        });
        if (caughtUp) {
          if (!cli.json) cli.out.line(`caught up: sink ${options.sink} applied the replay`);
          return;
        }
        console.error(
          `cdc: sink ${options.sink} had not caught up after ${timeoutS} s: ${progressLine(step)} (is an instance running? see \`cdc sinks\`)`,
        );
        process.exitCode = ExitCode.Timeout;
      });
    });
}
