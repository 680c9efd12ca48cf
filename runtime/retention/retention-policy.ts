import { ConfigError } from '../errors/config-error.ts';
import { parseDuration } from './duration.ts';

/** An amount of log: a number of entries, or a span of time (ms). */
export type LogExtent = { entries: number } | { ms: number };

/** What to do when one consumer group holds retention back past `maxHoldBack`. */
export type OnHoldBack = 'hold' | 'trim';

/** An entity's `retention` section of the project file, as written. */
export interface RetentionPolicyInput {
  /** Trim automatically (by the sink runners). Default true; `cdc trim` works either way. */
  enabled?: boolean;
  /** Never trim entries younger than this. Default `"24h"`. A duration or a number of ms. */
  minAge?: string | number;
  /**
   * Keep this much more below what every group and sink still needs: a number of entries, or a
   * duration (`"1h"`). Default 0.
   */
  keepExtra?: string | number;
  /**
   * How much log one group may hold back (entries or age kept only because of it) before it is
   * reported (a warning and `cdc_retention_held_back_*`) and, with `onHoldBack: "trim"`, trimmed
   * past. A number of entries or a duration. Default `"1h"`.
   */
  maxHoldBack?: string | number;
  /**
   * `"hold"` (default): keep everything a group needs, however far behind it is: the log grows.
   * `"trim"`: trim past a group held back beyond `maxHoldBack`; the range it loses is recorded
   * (see README, retention) and it is rebuilt from Kafka or backfilled.
   */
  onHoldBack?: OnHoldBack;
}

/** A retention policy with its defaults applied. */
export interface RetentionPolicy {
  enabled: boolean;
  minAgeMs: number;
  keepExtra: LogExtent;
  maxHoldBack: LogExtent;
  onHoldBack: OnHoldBack;
}

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = Object.freeze({
  enabled: true,
  minAgeMs: 86_400_000,
  keepExtra: Object.freeze({ entries: 0 }),
  maxHoldBack: Object.freeze({ ms: 3_600_000 }),
  onHoldBack: 'hold',
});

const FIELDS = new Set(['enabled', 'minAge', 'keepExtra', 'maxHoldBack', 'onHoldBack']);

/**
 * Validates an entity's retention section (`where` names it in errors, e.g. `entities.user`)
 * and applies the defaults. Every error is a ConfigError naming the field.
 */
export function resolveRetentionPolicy(where: string, input: unknown): RetentionPolicy {
  if (input === undefined) return DEFAULT_RETENTION_POLICY;
  const at = `${where}.retention`;
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new ConfigError(`${at} must be an object, e.g. { "minAge": "24h" }`);
  const raw = input as Record<string, unknown>;
  for (const field of Object.keys(raw))
    if (!FIELDS.has(field))
      throw new ConfigError(
        `${at}.${field} is not a retention setting (use ${[...FIELDS].join(', ')})`,
      );
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== 'boolean')
    throw new ConfigError(`${at}.enabled must be true or false, got ${JSON.stringify(enabled)}`);
  const onHoldBack = raw.onHoldBack ?? 'hold';
  if (onHoldBack !== 'hold' && onHoldBack !== 'trim')
    throw new ConfigError(
      `${at}.onHoldBack must be "hold" or "trim", got ${JSON.stringify(onHoldBack)}`,
    );
  const minAge = raw.minAge === undefined ? undefined : extent(`${at}.minAge`, raw.minAge);
  return {
    enabled,
    minAgeMs: minAge && 'ms' in minAge ? minAge.ms : DEFAULT_RETENTION_POLICY.minAgeMs,
    keepExtra:
      raw.keepExtra === undefined
        ? DEFAULT_RETENTION_POLICY.keepExtra
        : extent(`${at}.keepExtra`, raw.keepExtra),
    maxHoldBack:
      raw.maxHoldBack === undefined
        ? DEFAULT_RETENTION_POLICY.maxHoldBack
        : extent(`${at}.maxHoldBack`, raw.maxHoldBack),
    onHoldBack,
  };
}

/**
 * A number is a count of entries, a string a duration: `1000` keeps a thousand entries, `"1000"`
 * (a duration without a unit: milliseconds) a second. minAge reads a number as milliseconds.
 */
function extent(field: string, value: unknown): LogExtent {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new ConfigError(`${field} must be a whole number of entries ≥ 0, got ${value}`);
    return field.endsWith('.minAge') ? { ms: value } : { entries: value };
  }
  if (typeof value === 'string') {
    try {
      return { ms: parseDuration(value) };
    } catch (err) {
      throw new ConfigError(`${field}: ${(err as Error).message}`, err);
    }
  }
  throw new ConfigError(
    `${field} must be a number of entries or a duration such as "1h", got ${JSON.stringify(value)}`,
  );
}
