import type { Command } from 'commander';
import { DeadLetters } from '../../../../runtime/sink/dead-letters.ts';
import type { ContextOf } from '../cli-context.ts';

/** `cdc dead-letters`: a sink's failed and held events. */
export function deadLettersCommand(program: Command, context: ContextOf): void {
  program
    .command('dead-letters')
    .description('list a sink’s dead letters and quarantined keys')
    .requiredOption('--sink <name>', 'sink name')
    .option('--key <key>', 'only this key')
    .action(async (options: { sink: string; key?: string }) => {
      const cli = context();
      await cli.withRedis(async (redis, keys) => {
        const letters = await new DeadLetters(redis, keys, options.sink).list(
          options.key ? { key: options.key } : {},
        );
        cli.out.rows(
          letters.map((l) => ({
            id: l.id,
            kind: l.kind,
            entity: l.entity,
            partition: l.partition,
            key: l.key,
            source: l.sourceId,
            error: l.error.slice(0, 100),
          })),
        );
      });
    });
}
