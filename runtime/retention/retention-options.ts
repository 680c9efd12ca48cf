import { ConfigError } from '../errors/config-error.ts';
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy } from './retention-policy.ts';

/** How a sink runner applies retention to the partitions it owns. */
export interface RetentionOptions {
  /**
   * How often each owned partition is trimmed, ms, jittered by ±20 % so that instances started
   * together do not trim together. Default 30 000. 0: this runner never trims.
   */
  intervalMs?: number;
  /**
   * Each entity's policy (the project file's `retention` sections: ProjectConfig.retention).
   * An entity not named gets DEFAULT_RETENTION_POLICY.
   */
  policies?: Record<string, RetentionPolicy>;
}

export interface ResolvedRetentionOptions {
  intervalMs: number;
  policies: Record<string, RetentionPolicy>;
}

export function resolveRetentionOptions(options: RetentionOptions = {}): ResolvedRetentionOptions {
  const intervalMs = options.intervalMs ?? 30_000;
  if (!Number.isInteger(intervalMs) || (intervalMs !== 0 && intervalMs < 10))
    throw new ConfigError(
      `retention.intervalMs must be 0 (off) or an integer ≥ 10, got ${intervalMs}`,
    );
  return { intervalMs, policies: options.policies ?? {} };
}

/** The policy of an entity under these options. */
export function policyOf(options: ResolvedRetentionOptions, entity: string): RetentionPolicy {
  return options.policies[entity] ?? DEFAULT_RETENTION_POLICY;
}
