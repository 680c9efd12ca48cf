import { ConfigError } from '../errors/config-error.ts';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A duration as operators write it: `250ms`, `90s`, `30m`, `24h`, `7d`, or a bare number of
 * milliseconds. Anything else is a ConfigError naming the text: a retention typed wrong must not
 * silently become zero.
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new ConfigError(`not a duration: "${text}" (use e.g. 90s, 30m, 24h, 7d)`);
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(Math.round(ms)))
    throw new ConfigError(`duration out of range: "${text}"`);
  return Math.round(ms);
}
