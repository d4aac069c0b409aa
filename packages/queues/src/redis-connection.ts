import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { redactRedisUrl, type RedisAuth, type RedisTarget } from "./redis-target.ts";

export { redactRedisUrl };

/** What BullMQ and the project take as a connection: one node (or Sentinel's primary) or a cluster. */
export type RedisConnection = Redis | Cluster;

/** Options applied to every connection of one kind (producer, worker, CLI), whatever the target. */
export interface ConnectionProfile {
  /** Per-node options (`Redis` options; a cluster passes them to each node's connection). */
  node: RedisOptions;
  /**
   * Reconnection delay in ms after `times` failed attempts (one node, Sentinel, whole cluster);
   * null stops reconnecting.
   */
  retryStrategy: (times: number) => number | null;
  enableOfflineQueue: boolean;
  enableAutoPipelining?: boolean;
  /** Cluster only: cluster-level options (failover retries, ready check, slot refresh …). */
  cluster?: Omit<ClusterOptions, "redisOptions">;
  /** Sentinel only: options next to `sentinels` (failover detector, Sentinel command timeout …). */
  sentinel?: RedisOptions;
}

/**
 * A producer must answer its caller quickly: with the offline queue off, a command sent while Redis
 * is unreachable fails at once instead of waiting for a reconnect, so the ingest can answer 503 and
 * let the sender retry. Reconnection still happens in the background. On a cluster, a command whose
 * node just died is retried on the slot's new node (ioredis's `retryDelayOnFailover`) and fails once
 * its redirections run out; on Sentinel, the client asks the Sentinels for the new primary.
 *
 * `target` is a `RedisTarget` or a single node's URL. `options` are merged last (one node and
 * Sentinel: into the client; cluster: into each node's options).
 */
export function createProducerConnection(url: string, options?: RedisOptions): Redis;
export function createProducerConnection(
  target: RedisTarget | string,
  options?: RedisOptions,
): RedisConnection;
export function createProducerConnection(
  target: RedisTarget | string,
  options: RedisOptions = {},
): RedisConnection {
  return createRedisConnection(target, options, {
    node: { maxRetriesPerRequest: 1, connectTimeout: 5_000 },
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    enableOfflineQueue: false,
    // Under load many requests enqueue in the same tick; one socket write for all of them
    // instead of one each is most of the ingest's throughput. Not on a cluster: there an
    // automatic pipeline caught in a failover can stay pending for good, with every later command
    // for its node queued behind it, and its commands do not follow MOVED.
    enableAutoPipelining: true,
    cluster: { enableAutoPipelining: false },
  });
}

/**
 * Workers block on Redis and must ride out outages and failovers: BullMQ requires
 * `maxRetriesPerRequest: null` for them, and commands wait in the offline queue until the
 * connection (or the cluster's slot map, or Sentinel's new primary) is back.
 */
export function createWorkerConnection(url: string, options?: RedisOptions): Redis;
export function createWorkerConnection(
  target: RedisTarget | string,
  options?: RedisOptions,
): RedisConnection;
export function createWorkerConnection(
  target: RedisTarget | string,
  options: RedisOptions = {},
): RedisConnection {
  return createRedisConnection(target, options, {
    node: { maxRetriesPerRequest: null, connectTimeout: 10_000 },
    retryStrategy: (times) => Math.min(2 ** times * 100, 20_000),
    enableOfflineQueue: true,
    // While a replica takes over, the surviving nodes answer MOVED (to the dead master, then to
    // the new one) and CLUSTERDOWN: spaced retries, about 10 s in all, ride that out instead of
    // failing the job's bookkeeping after 16 instant redirections (ioredis's default).
    cluster: {
      retryDelayOnMoved: 100,
      retryDelayOnFailover: 300,
      retryDelayOnClusterDown: 300,
      maxRedirections: 32,
    },
  });
}

/** Per-node auth options; `undefined` fields are left out so a URL's own credentials stay. */
export function authOptions(auth: RedisAuth | undefined): RedisOptions {
  const options: RedisOptions = {};
  if (auth?.username !== undefined) options.username = auth.username;
  if (auth?.password !== undefined) options.password = auth.password;
  if (auth?.tls === true) options.tls = {};
  return options;
}

/**
 * A connection to `target` (a `RedisTarget` or one node's URL) with a profile's options; `options`
 * are merged last into the client's (cluster: each node's). Producers, workers and the CLI each
 * have their profile; prefer `createProducerConnection` / `createWorkerConnection`.
 */
export function createRedisConnection(
  target: RedisTarget | string,
  options: RedisOptions,
  profile: ConnectionProfile,
): RedisConnection {
  const resolved: RedisTarget =
    typeof target === "string" ? { mode: "single", url: target } : target;
  const shared = {
    enableOfflineQueue: profile.enableOfflineQueue,
    ...(profile.enableAutoPipelining === undefined
      ? {}
      : { enableAutoPipelining: profile.enableAutoPipelining }),
  };
  switch (resolved.mode) {
    case "single":
      return new Redis(resolved.url, {
        ...profile.node,
        ...shared,
        retryStrategy: profile.retryStrategy,
        ...authOptions(resolved.auth),
        ...options,
      });
    case "sentinel":
      return new Redis({
        ...profile.node,
        ...shared,
        ...authOptions(resolved.auth),
        sentinels: resolved.sentinels.map(({ host, port }) => ({ host, port })),
        name: resolved.masterName,
        ...(resolved.sentinelPassword === undefined
          ? {}
          : { sentinelPassword: resolved.sentinelPassword }),
        ...(resolved.auth?.tls === true ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        // No `failoverDetector`: its +switch-master handler can cut a reconnect in progress
        // short and leave the client ended for good (seen with a primary killed under load).
        // The dead primary's closed connection is what makes the client ask the Sentinels again.
        sentinelRetryStrategy: profile.retryStrategy,
        retryStrategy: profile.retryStrategy,
        ...profile.sentinel,
        ...options,
      });
    case "cluster": {
      const clusterOptions: ClusterOptions = {
        ...shared,
        clusterRetryStrategy: profile.retryStrategy,
        slotsRefreshTimeout: 2_000,
        ...profile.cluster,
        // TLS certificates of managed clusters name the host, not its address (ioredis docs).
        ...(resolved.auth?.tls === true
          ? {
              dnsLookup: (address, callback) => {
                callback(null, address);
              },
            }
          : {}),
        redisOptions: { ...profile.node, ...authOptions(resolved.auth), ...options },
      };
      return new Cluster(
        resolved.nodes.map(({ host, port }) => ({ host, port })),
        clusterOptions,
      );
    }
  }
}

/**
 * Checks that Redis answers: PING to the node (or Sentinel's primary); on a cluster, PING to every
 * master the client knows and, for each of `slotKeys`, an EXISTS routed to the master of that key's
 * slot. The keys matter: the client drops a dead master from its list, so only a command for one
 * of its slots notices that the slot has no master until a replica is promoted. Rejects with the
 * first error when any does not answer.
 */
export async function pingRedis(
  connection: RedisConnection,
  slotKeys: readonly string[] = [],
): Promise<void> {
  if (connection instanceof Cluster) {
    const masters = connection.nodes("master");
    if (masters.length === 0) throw new Error("no reachable cluster master");
    await Promise.all([
      ...masters.map((node) => node.ping()),
      ...slotKeys.map((key) => connection.exists(key)),
    ]);
    return;
  }
  await connection.ping();
}
