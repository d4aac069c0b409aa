import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { Cluster, type Redis } from "ioredis";
import { redactUrl } from "../connection-options.ts";
import { describeTarget, nodeAddress, openRedis } from "../redis-client.ts";
import { CliError } from "../cli-error.ts";
import { errorMessage } from "../with-timeout.ts";
import { fail, type CheckResult } from "./check.ts";
import { guarded, type Guard } from "./guarded.ts";
import {
  checkRedisEviction,
  checkRedisPersistence,
  checkRedisVersion,
  type PersistenceOptions,
} from "./redis-checks.ts";
import {
  checkClusterState,
  checkSentinelPrimary,
  checkSingleNode,
  type ClusterMaster,
} from "./redis-topology-checks.ts";

const ADVICE: Record<RedisTarget["mode"], string> = {
  single:
    "start Redis (`bash scripts/ensure-services.sh` locally) or point REDIS_URL (--redis-url) at it",
  cluster:
    "start the cluster's nodes or point REDIS_CLUSTER_NODES (--redis-cluster-nodes) at some of them; REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS apply to every node",
  sentinel:
    "start the Sentinels, point REDIS_SENTINELS (--redis-sentinels) at them and REDIS_SENTINEL_MASTER (--redis-sentinel-master) at the name they monitor the primary under",
};

const AUTH_ADVICE =
  "set REDIS_USERNAME and REDIS_PASSWORD (or the credentials in REDIS_URL) to a user Redis knows, with the password of its ACL user or requirepass";

/** The node's own checks; on a cluster or behind Sentinel each detail names the node. */
function nodeChecks(
  redis: Redis,
  address: string,
  guard: Guard,
  options: PersistenceOptions,
): Promise<CheckResult[]> {
  const named =
    (check: (redis: Redis) => Promise<CheckResult>, prefix = true) =>
    async (): Promise<CheckResult> => {
      try {
        const result = await check(redis);
        return prefix ? { ...result, detail: `${address}: ${result.detail}` } : result;
      } catch (error) {
        throw new Error(`${address}: ${errorMessage(error)}`);
      }
    };
  const what = { ...guard, what: `Redis at ${address}` };
  return Promise.all([
    guarded(
      "redis",
      what,
      named((node) => checkRedisVersion(node, address), false),
    ),
    guarded("redis eviction", what, named(checkRedisEviction)),
    guarded(
      "redis persistence",
      what,
      named((node) => checkRedisPersistence(node, options)),
    ),
  ]);
}

/** A master's connection is the cluster client's own, so it shares the client's options. */
function mastersOf(cluster: Cluster): ClusterMaster[] {
  return cluster
    .nodes("master")
    .map((redis) => ({
      address: nodeAddress({ host: redis.options.host ?? "", port: redis.options.port ?? 0 }),
      redis,
    }))
    .sort((a, b) => a.address.localeCompare(b.address, "en", { numeric: true }));
}

/**
 * Connects to Redis as the target says and checks what the queues need: on one node its
 * version, eviction policy and persistence; on a cluster its state, then the same on every
 * master (each holds the queues of its own slots); behind Sentinel, the primary it names, then
 * the same on that primary. A Redis that cannot be reached is one failed result. `options.dev`
 * accepts a Redis without any persistence (see checkRedisPersistence).
 */
export async function redisChecks(
  target: RedisTarget,
  timeoutMs: number,
  options: PersistenceOptions = {},
): Promise<CheckResult[]> {
  const advice = ADVICE[target.mode];
  const guard: Guard = { advice, what: describeTarget(target), timeoutMs };
  let connection: Redis | Cluster;
  try {
    connection = await openRedis(target, timeoutMs);
  } catch (error) {
    // The other Redis checks cannot run; this one line says why.
    const authRefused = error instanceof CliError && error.code === "CLI_REDIS_AUTH";
    return [fail("redis", errorMessage(error), authRefused ? AUTH_ADVICE : advice)];
  }
  const redis = connection;
  try {
    if (redis instanceof Cluster) {
      const masters = mastersOf(redis);
      const replicas = redis.nodes("slave").length;
      const [state, perMaster] = await Promise.all([
        guarded("redis cluster", guard, () => checkClusterState(masters, replicas)),
        Promise.all(
          masters.map(({ redis: node, address }) => nodeChecks(node, address, guard, options)),
        ),
      ]);
      return [state, ...perMaster.flat()];
    }
    if (target.mode === "sentinel") {
      const { remoteAddress, remotePort } = redis.stream;
      const address = nodeAddress({ host: remoteAddress ?? "", port: remotePort ?? 0 });
      const [primary, checks] = await Promise.all([
        guarded("redis sentinel", guard, () =>
          checkSentinelPrimary(redis, target.masterName, address),
        ),
        nodeChecks(redis, address, guard, options),
      ]);
      return [primary, ...checks];
    }
    const where = target.mode === "single" ? redactUrl(target.url) : describeTarget(target);
    return await Promise.all([
      guarded("redis", guard, () => checkSingleNode(redis, where)),
      guarded("redis eviction", guard, () => checkRedisEviction(redis)),
      guarded("redis persistence", guard, () => checkRedisPersistence(redis, options)),
    ]);
  } finally {
    redis.disconnect();
  }
}
