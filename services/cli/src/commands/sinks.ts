import type { Command } from 'commander';
import type { ContextOf } from '../cli-context.ts';
import { sinkStatuses } from '../sink-status.ts';

/** `cdc sinks`: every sink, whether it runs, its instances and the partitions each owns. */
export function sinksCommand(program: Command, context: ContextOf): void {
  program
    .command('sinks')
    .description(
      'every sink with its live instances (from their heartbeats and partition leases), the partitions each owns and the age of its last heartbeat; a sink with no live instance is stopped',
    )
    .option('--sink <name>', 'only this sink')
    .action(async (options: { sink?: string }) => {
      const cli = context();
      await cli.withRedis(async (redis, keys) => {
        const sinks = (await sinkStatuses(redis, keys)).filter(
          (s) => options.sink === undefined || s.sink === options.sink,
        );
        if (cli.json) {
          cli.out.jsonValue({ sinks });
          return;
        }
        if (sinks.length === 0) {
          cli.out.line('no sinks');
          return;
        }
        cli.out.table(
          sinks.map((s) => ({
            sink: s.sink,
            source: s.source,
            state: s.state,
            instances: s.instances.length,
            partitions: s.partitions,
            unowned: s.unowned.length,
          })),
        );
        const instances = sinks.flatMap((s) =>
          s.instances.map((i) => ({
            sink: s.sink,
            instance: i.instance,
            'last heartbeat (s ago)': i.heartbeatAgeS ?? 'unknown',
            partitions: i.partitions.join(' '),
          })),
        );
        if (instances.length > 0) {
          cli.out.line('');
          cli.out.table(instances);
        }
      });
    });
}
