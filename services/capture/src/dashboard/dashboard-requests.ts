import { ValidationError } from '../../../../runtime/errors/validation-error.ts';
import type { ReplayStart } from '../../../../runtime/monitor/replay-plan.ts';
import { isStreamId } from '../../../../runtime/stream-id.ts';

/** A replay asked from the lag page: `cdc replay`'s options as JSON. */
export interface ReplayBody {
  sink: string;
  entity?: string;
  start: ReplayStart;
  dryRun: boolean;
}

/** A re-drive or skip of a quarantined key asked from the lag page. */
export interface QuarantineBody {
  sink: string;
  entity: string;
  partition: number;
  key: string;
}

type Issues = Array<{ path: string; message: string }>;

function object(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError(what, [{ path: '', message: 'expected a JSON object' }]);
  }
  return body as Record<string, unknown>;
}

function text(body: Record<string, unknown>, field: string, issues: Issues): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    issues.push({ path: field, message: 'must be a non-empty string' });
    return '';
  }
  return value;
}

/**
 * `{ sink, entity?, from: "start" | "time" | "offset", at?: ISO time or stream id, dryRun }`:
 * one start, well formed, as `cdc replay` requires.
 */
export function replayBody(raw: unknown): ReplayBody {
  const body = object(raw, 'replay');
  const issues: Issues = [];
  const sink = text(body, 'sink', issues);
  const entity = body.entity === undefined || body.entity === '' ? undefined : body.entity;
  if (entity !== undefined && typeof entity !== 'string') {
    issues.push({ path: 'entity', message: 'must be a string' });
  }
  if (typeof body.dryRun !== 'boolean') {
    issues.push({ path: 'dryRun', message: 'must be true or false' });
  }
  let start: ReplayStart = { from: 'start' };
  if (body.from === 'time') {
    const ms = typeof body.at === 'string' ? Date.parse(body.at) : Number.NaN;
    if (Number.isNaN(ms)) issues.push({ path: 'at', message: 'must be an ISO time' });
    start = { from: 'time', ms };
  } else if (body.from === 'offset') {
    const id = typeof body.at === 'string' ? body.at : '';
    if (!isStreamId(id)) issues.push({ path: 'at', message: 'must be a stream id (<ms>-<seq>)' });
    start = { from: 'offset', id };
  } else if (body.from !== 'start') {
    issues.push({ path: 'from', message: 'must be "start", "time" or "offset"' });
  }
  if (issues.length > 0) throw new ValidationError('replay', issues);
  return {
    sink,
    ...(typeof entity === 'string' ? { entity } : {}),
    start,
    dryRun: body.dryRun === true,
  };
}

/** `{ sink, entity, partition, key }`. */
export function quarantineBody(raw: unknown): QuarantineBody {
  const body = object(raw, 'quarantine request');
  const issues: Issues = [];
  const sink = text(body, 'sink', issues);
  const entity = text(body, 'entity', issues);
  const key = text(body, 'key', issues);
  const partition = body.partition;
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) {
    issues.push({ path: 'partition', message: 'must be a partition number' });
  }
  if (issues.length > 0) throw new ValidationError('quarantine request', issues);
  return { sink, entity, partition: partition as number, key };
}
