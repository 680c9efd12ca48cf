import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pki } from './tls-pki.ts';
import { waitFor } from './wait-for.ts';

const run = promisify(execFile);

/** A Redis Cluster of a test's own (3 masters, a replica each), for tests that kill its nodes. */
export interface OwnRedisCluster {
  /** `host:port,…` of every node, as REDIS_CLUSTER_NODES takes them. */
  readonly nodes: string;
  readonly ports: readonly number[];
  /** The port of the master serving `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** kill -9 of the node on `port`. */
  kill(port: number): void;
  /** Resolves once `port` is a master and the cluster answers `cluster_state:ok` from it. */
  promoted(port: number, timeoutMs: number): Promise<void>;
  /** The replica of the master on `port`. */
  replicaOf(port: number): Promise<number>;
  /** Ports of the masters now, in port order. */
  masters(): Promise<number[]>;
  /** The slots the master on `port` serves, lowest first. */
  slotsOf(port: number): Promise<number[]>;
  /**
   * Moves the `count` lowest slots of the master on `from` to the master on `to`, keys and all,
   * with `redis-cli --cluster reshard` (the tool operators use).
   */
  reshard(from: number, to: number, count: number): Promise<void>;
  stop(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Six consecutive ports whose cluster bus ports (+10000) are free too. */
async function freeBlock(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 21000 + Math.floor(Math.random() * 8000);
    let ok = true;
    for (let i = 0; i < 6 && ok; i++)
      ok = (await portFree(base + i)) && (await portFree(base + i + 10000));
    if (ok) return base;
  }
  throw new Error('no free block of six ports (and their cluster bus ports) found');
}

/** redis-cli's options to reach a TLS-only node with the client certificate. */
function tlsArgs(pki: Pki | undefined): string[] {
  if (!pki) return [];
  return [
    '--tls',
    '--cacert',
    pki.caFile,
    '--cert',
    pki.client.certFile,
    '--key',
    pki.client.keyFile,
  ];
}

/**
 * Starts six redis-server processes with `cluster-enabled yes` in a temporary folder and forms a
 * cluster with `redis-cli --cluster create --cluster-replicas 1`. `nodeTimeoutMs` is how long a
 * master may be unreachable before its replica takes over. With `tls`, every node speaks TLS only
 * (clients need a certificate of the PKI's CA), its replication and cluster bus too.
 */
export async function startOwnRedisCluster(
  nodeTimeoutMs = 1000,
  options: { tls?: Pki } = {},
): Promise<OwnRedisCluster> {
  const { tls } = options;
  const cli = async (port: number, ...args: string[]): Promise<string> => {
    const { stdout } = await run('redis-cli', [...tlsArgs(tls), '-p', String(port), ...args], {
      timeout: 10_000,
    });
    return stdout;
  };
  const dir = await mkdtemp(join(tmpdir(), 'cdc-own-cluster-'));
  const base = await freeBlock();
  const ports = Array.from({ length: 6 }, (_, i) => base + i);
  const children = new Map<number, ChildProcess>();
  for (const port of ports) {
    const folder = join(dir, String(port));
    await mkdir(folder);
    await writeFile(
      join(folder, 'redis.conf'),
      [
        // With TLS the node speaks TLS only, to clients, to its replica and on the cluster bus.
        ...(tls
          ? [
              'port 0',
              `tls-port ${port}`,
              `tls-cert-file ${tls.serverCertFile}`,
              `tls-key-file ${tls.serverKeyFile}`,
              `tls-ca-cert-file ${tls.caFile}`,
              // Nodes connect to each other (bus, replication) as clients: the server
              // certificate is for serverAuth only.
              `tls-client-cert-file ${tls.client.certFile}`,
              `tls-client-key-file ${tls.client.keyFile}`,
              'tls-auth-clients yes',
              'tls-cluster yes',
              'tls-replication yes',
            ]
          : [`port ${port}`]),
        'bind 127.0.0.1',
        `dir ${folder}`,
        'cluster-enabled yes',
        'cluster-config-file nodes.conf',
        `cluster-node-timeout ${nodeTimeoutMs}`,
        'appendonly no',
        `logfile ${join(folder, 'redis.log')}`,
        'save ""',
        '',
      ].join('\n'),
    );
    children.set(port, spawn('redis-server', [join(folder, 'redis.conf')], { stdio: 'ignore' }));
  }
  const stop = async (): Promise<void> => {
    for (const child of children.values()) child.kill('SIGKILL');
    if (!process.env.KEEP_OWN_CLUSTER) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      await waitFor(
        `redis-server on ${port}`,
        async () => (await cli(port, 'PING').catch(() => '')).includes('PONG'),
        10_000,
        50,
      );
    }
    await run(
      'redis-cli',
      [
        ...tlsArgs(tls),
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    for (const port of ports) {
      await waitFor(
        `cluster_state:ok on ${port}`,
        async () =>
          (await cli(port, 'CLUSTER', 'INFO').catch(() => '')).includes('cluster_state:ok'),
        20_000,
        100,
      );
    }
    // A replica that has not finished its first sync never takes over: wait for every link.
    for (const port of ports) {
      await waitFor(
        `replication settled on ${port}`,
        async () => {
          const info = await cli(port, 'INFO', 'replication').catch(() => '');
          return info.includes('role:master') || info.includes('master_link_status:up');
        },
        30_000,
        100,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const live = (): number[] =>
    ports.filter((p) => children.get(p)?.exitCode === null && children.get(p)?.signalCode === null);
  /** `CLUSTER SHARDS`-free: CLUSTER NODES lines of a live node. */
  const nodesTable = async (): Promise<string[][]> => {
    for (const port of live()) {
      const out = await cli(port, 'CLUSTER', 'NODES').catch(() => '');
      if (out)
        return out
          .trim()
          .split('\n')
          .map((line) => line.split(' '));
    }
    throw new Error('no live node answers CLUSTER NODES');
  };
  const portOf = (address: string): number => Number(address.split('@')[0]?.split(':')[1]);
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    async masterOf(slot) {
      for (const row of await nodesTable()) {
        if (!row[2]?.includes('master') || row[2].includes('fail')) continue;
        for (const range of row.slice(8)) {
          const [from, to] = range.split('-').map(Number);
          if (from !== undefined && slot >= from && slot <= (to ?? from))
            return portOf(row[1] ?? '');
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    async replicaOf(port) {
      const table = await nodesTable();
      const master = table.find((row) => portOf(row[1] ?? '') === port)?.[0];
      const replica = table.find((row) => row[2]?.includes('slave') && row[3] === master);
      if (!replica) throw new Error(`no replica of ${port}`);
      return portOf(replica[1] ?? '');
    },
    async masters() {
      return (await nodesTable())
        .filter((row) => row[2]?.includes('master') && !row[2].includes('fail'))
        .map((row) => portOf(row[1] ?? ''))
        .sort((a, b) => a - b);
    },
    async slotsOf(port) {
      const row = (await nodesTable()).find((r) => portOf(r[1] ?? '') === port);
      const slots: number[] = [];
      for (const range of row?.slice(8) ?? []) {
        // A slot in migration is listed as `[slot->-id]`: not served as a whole, left out.
        if (range.startsWith('[')) continue;
        const [first, last] = range.split('-').map(Number);
        if (first === undefined) continue;
        for (let slot = first; slot <= (last ?? first); slot++) slots.push(slot);
      }
      return slots.sort((a, b) => a - b);
    },
    async reshard(from, to, count) {
      const table = await nodesTable();
      const idOf = (port: number): string => {
        const id = table.find((row) => portOf(row[1] ?? '') === port)?.[0];
        if (!id) throw new Error(`no node on ${port}`);
        return id;
      };
      await run(
        'redis-cli',
        [
          ...tlsArgs(tls),
          '--cluster',
          'reshard',
          `127.0.0.1:${from}`,
          '--cluster-from',
          idOf(from),
          '--cluster-to',
          idOf(to),
          '--cluster-slots',
          String(count),
          '--cluster-yes',
        ],
        { timeout: 120_000 },
      );
    },
    kill(port) {
      children.get(port)?.kill('SIGKILL');
    },
    async promoted(port, timeoutMs) {
      await waitFor(
        `the node on ${port} promoted, cluster_state:ok`,
        async () => {
          const role = await cli(port, 'ROLE').catch(() => '');
          const info = await cli(port, 'CLUSTER', 'INFO').catch(() => '');
          return role.startsWith('master') && info.includes('cluster_state:ok');
        },
        timeoutMs,
        100,
      );
    },
    stop,
  };
}
