import keySlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { RedisReplyError } from './errors/redis-reply-error.ts';

/** A node of a Redis Cluster, as its slot map names it (`host:port`). */
export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * The master serving `key`'s slot in the client's current slot map, with its connection (whose
 * options carry the login and TLS of every node), or undefined while the map does not name one
 * (not loaded yet, or the slot is unassigned during a failover).
 */
export function clusterMasterOf(
  cluster: Cluster,
  key: string,
): { address: string; node: Redis } | undefined {
  const address = cluster.slots[keySlot(key)]?.[0];
  if (address === undefined) return undefined;
  const node = cluster.nodes('master').find((n) => nodeAddress(n) === address);
  return node ? { address, node } : undefined;
}

/** `host:port` of a node connection, as the slot map writes it. */
export function nodeAddress(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/**
 * What a cluster's error reply asks of the client: `moved` (the slot lives on `address` now:
 * the map is stale), `migrating` (`ASK` or `TRYAGAIN`: the slot is being moved and the key may be
 * on either side; asking again shortly finds it settled), `down` (`CLUSTERDOWN`: a failover is
 * under way). Undefined for any other error.
 */
export type ClusterRedirect =
  | { readonly kind: 'moved'; readonly address: string }
  | { readonly kind: 'migrating' }
  | { readonly kind: 'down' };

export function clusterRedirectOf(error: unknown): ClusterRedirect | undefined {
  const reply = error instanceof RedisReplyError ? error.reply : undefined;
  if (reply === undefined) return undefined;
  if (reply.startsWith('MOVED ')) {
    const address = reply.split(' ')[2];
    return address ? { kind: 'moved', address } : undefined;
  }
  // EXECABORT follows a MOVED or ASK reply to a command queued in the transaction.
  if (reply.startsWith('ASK ') || reply.startsWith('TRYAGAIN') || reply.startsWith('EXECABORT'))
    return { kind: 'migrating' };
  if (reply.startsWith('CLUSTERDOWN')) return { kind: 'down' };
  return undefined;
}
