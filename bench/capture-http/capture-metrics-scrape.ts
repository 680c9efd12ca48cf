/** Running totals of capture's histograms, read from its /metrics. */
export interface CaptureTotals {
  /** cdc_capture_write_seconds: the cache-and-log write, from its call to its reply. */
  writeSeconds: { sum: number; count: number };
  /** cdc_capture_writes_per_call: writes per capture-write script call (group commit). */
  writesPerCall: { sum: number; count: number };
  /** cdc_capture_write_through_wait_seconds: time write-throughs waited for the sinks. */
  throughWait: { sum: number; count: number };
}

/** Sum over every label set of `<name>_sum` and `<name>_count` in a Prometheus text page. */
function totals(page: string, name: string): { sum: number; count: number } {
  const total = { sum: 0, count: 0 };
  for (const line of page.split('\n')) {
    const match = new RegExp(`^${name}_(sum|count)(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) total[match[1] as 'sum' | 'count'] += Number(match[2]);
  }
  return total;
}

/**
 * Reads the capture service's histograms (its own account of where a request's time goes), or
 * undefined for a subject without /metrics (the bare route).
 */
export async function scrapeCapture(origin: string): Promise<CaptureTotals | undefined> {
  const response = await fetch(`${origin}/metrics`).catch(() => undefined);
  if (!response?.ok) return undefined;
  const page = await response.text();
  return {
    writeSeconds: totals(page, 'cdc_capture_write_seconds'),
    writesPerCall: totals(page, 'cdc_capture_writes_per_call'),
    throughWait: totals(page, 'cdc_capture_write_through_wait_seconds'),
  };
}

/** Mean of a histogram between two readings (NaN when nothing was observed). */
export function meanBetween(
  before: { sum: number; count: number },
  after: { sum: number; count: number },
): number {
  const count = after.count - before.count;
  return count > 0 ? (after.sum - before.sum) / count : Number.NaN;
}
