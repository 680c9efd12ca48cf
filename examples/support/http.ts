/** What the capture service answers to a write (see services/capture/src/server.ts). */
export interface WriteAnswer {
  entity: string;
  key: string;
  /** Stream id of the event: its position in the log and the record's version. */
  id: string;
  partition: number;
  duplicate: boolean;
  mode: 'behind' | 'through';
  /** For `through`: the sinks that confirmed the event. */
  appliedBy?: string[];
}

/**
 * Sends a JSON request, printing it as the equivalent curl command and the answer as it came,
 * and returns the parsed answer. Throws with the service's error body on any status but 2xx.
 */
export async function sendJson<T>(
  method: 'PUT' | 'PATCH',
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<T> {
  const json = JSON.stringify(body);
  const headerArgs = Object.entries(headers)
    .map(([name, value]) => ` -H '${name}: ${value}'`)
    .join('');
  console.log(`$ curl -X ${method} ${url} -H 'content-type: application/json'${headerArgs} \\`);
  console.log(`       -d '${json}'`);
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: json,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  console.log(`HTTP ${res.status} ${text}`);
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** GETs a JSON document, printing the curl command and the answer; throws on any status but 2xx. */
export async function getJson<T>(url: string, timeoutMs = 10_000): Promise<T> {
  console.log(`$ curl ${url}`);
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  console.log(`HTTP ${res.status} ${text}`);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}
