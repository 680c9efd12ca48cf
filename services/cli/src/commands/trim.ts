import type { Command } from 'commander';
import { envString } from '../../../../runtime/config/env.ts';
import { parseDuration } from '../../../../runtime/retention/duration.ts';
import { StreamRetention } from '../../../../runtime/retention/stream-retention.ts';
import type { ContextOf } from '../cli-context.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Row } from '../output.ts';
import { partitionsOf } from '../partitions.ts';

/** `cdc trim`: safe retention of the partition streams. */
export function trimCommand(program: Command, context: ContextOf): void {
  program
    .command('trim')
    .description(
      'safe retention: trim each partition stream below what every consumer group still needs and every sink has applied, never within the minimum age',
    )
    .option('--entity <entity>', 'only this entity')
    .option(
      '--min-age <duration>',
      'keep entries younger than this (e.g. 30m, 24h, 7d): a replay from an older backup needs them',
      envString(process.env, 'CDC_RETENTION_MIN_AGE', '24h'),
    )
    .option('--dry-run', 'report what would be removed, remove nothing')
    .action(async (options: { entity?: string; minAge: string; dryRun?: boolean }) => {
      let minAgeMs: number;
      try {
        minAgeMs = parseDuration(options.minAge);
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = ExitCode.Usage;
        return;
      }
      const cli = context();
      await cli.withRedis(async (redis, keys) => {
        const partitions = await partitionsOf(redis, keys, options.entity);
        if (!partitions) return;
        const retention = new StreamRetention(redis, keys);
        const rows: Row[] = [];
        for (const { entity, partition } of partitions) {
          const plan = await retention.plan(entity, partition, minAgeMs);
          const removed = options.dryRun ? 0 : await retention.trim(plan);
          rows.push({
            entity,
            partition,
            entries: plan.length,
            'trim below': plan.bound?.minId ?? '(no consumer groups: kept)',
            'held by': plan.bound?.heldBy ?? '',
            [options.dryRun ? 'would remove' : 'removed']: options.dryRun
              ? plan.removable
              : removed,
          });
        }
        cli.out.rows(rows);
      });
    });
}
