import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { ContextOf } from '../cli-context.ts';
import { ExitCode } from '../exit-codes.ts';
import { kafkaLagReport, kafkaSinkRowOver, printKafkaLagReport } from '../kafka-lag-report.ts';
import { lagRows } from '../lag-rows.ts';

/**
 * `cdc lag`: entries each sink has not applied, per partition, with the node serving it (which
 * master a lagging partition's load or failover is on); Kafka figures beside.
 */
export function lagCommand(program: Command, context: ContextOf): void {
  program
    .command('lag')
    .description(
      'entries each sink has not applied yet, per partition, the age of the oldest and the Redis node serving the partition (on a cluster the master of its slot); for sinks reading Kafka and for Kafka bridges, their Kafka figures',
    )
    .option('--sink <name>', 'only this sink')
    .option('--watch <seconds>', 'print again every so many seconds, until interrupted')
    .option(
      '--max-behind <entries>',
      `exit with code ${ExitCode.Behind} when a partition is further behind than this (or its lag is unknown)`,
    )
    .action(async (options: { sink?: string; watch?: string; maxBehind?: string }) => {
      const every = options.watch === undefined ? undefined : Number(options.watch);
      const max = options.maxBehind === undefined ? undefined : Number(options.maxBehind);
      if ((every !== undefined && !(every > 0)) || (max !== undefined && !(max >= 0))) {
        console.error(
          '--watch takes a positive number of seconds, --max-behind a count of entries',
        );
        process.exitCode = ExitCode.Usage;
        return;
      }
      const cli = context();
      await cli.withRedis(async (redis, keys) => {
        for (;;) {
          const rows = await lagRows(redis, keys, options.sink);
          const kafka = await kafkaLagReport(redis, keys, process.env, {
            sink: options.sink,
            groups: rows.map((r) => r.sink),
          });
          if (every !== undefined && !cli.json) console.clear();
          if (cli.json) cli.out.jsonValue({ streams: rows, ...kafka });
          else {
            cli.out.table(rows);
            printKafkaLagReport(kafka, (r) => cli.out.table(r));
          }
          const over =
            max !== undefined &&
            (rows.some((r) => typeof r.behind !== 'number' || r.behind > max) ||
              kafka.kafkaSinks.some((r) => kafkaSinkRowOver(r, max)));
          process.exitCode = over ? ExitCode.Behind : ExitCode.Ok;
          if (every === undefined) return;
          await sleep(every * 1000);
        }
      });
    });
}
