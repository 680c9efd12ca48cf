import type { Command } from 'commander';
import { EntityMetadataStore } from '../../../../runtime/capture/entity-metadata.ts';
import { partitionOf } from '../../../../runtime/partition.ts';
import { DeadLetters } from '../../../../runtime/sink/dead-letters.ts';
import { KafkaSourcedSinks } from '../../../../runtime/sink/source/kafka-sourced-sinks.ts';
import type { ContextOf } from '../cli-context.ts';
import { ExitCode } from '../exit-codes.ts';

/** `cdc redrive` and `cdc skip`: release a key a sink quarantined behind a dead letter. */
export function quarantineCommands(program: Command, context: ContextOf): void {
  for (const action of ['redrive', 'skip'] as const) {
    program
      .command(action)
      .description(
        action === 'redrive'
          ? 'apply a quarantined key’s dead letters again, in order (after fixing the cause)'
          : 'drop a quarantined key’s failed event, then apply its held events',
      )
      .requiredOption('--sink <name>', 'sink name')
      .requiredOption('--entity <entity>', 'entity')
      .requiredOption('--key <key>', 'entity key')
      .action(async (options: { sink: string; entity: string; key: string }) => {
        const cli = context();
        await cli.withRedis(async (redis, keys) => {
          const meta = await new EntityMetadataStore(redis, keys).get(options.entity);
          const letters = new DeadLetters(redis, keys, options.sink);
          // A sink reading Kafka quarantines keys in the topic's partitions: its letters say which.
          const fromKafka = (await new KafkaSourcedSinks(redis, keys).topicsOf(options.sink)).has(
            options.entity,
          );
          const partition = fromKafka
            ? ((await letters.list({ entity: options.entity, key: options.key }))[0]?.partition ??
              -1)
            : partitionOf(options.key, meta.partitions);
          const ok =
            action === 'redrive'
              ? await letters.requestRedrive(options.entity, partition, options.key)
              : await letters.requestSkip(options.entity, partition, options.key);
          if (!ok) {
            console.error(
              `${options.entity} "${options.key}" is not quarantined by sink ${options.sink}`,
            );
            process.exitCode = ExitCode.Failed;
            return;
          }
          cli.out.line(
            `${action} requested; the instance that owns ${options.entity} partition ${partition} carries it out between two batches`,
          );
        });
      });
  }
}
