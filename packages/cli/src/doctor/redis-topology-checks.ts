import type { Redis } from "ioredis";
import { errorMessage } from "../with-timeout.ts";
import { fail, ok, type CheckResult } from "./check.ts";
import { checkRedisVersion, parseFields, readInfo } from "./redis-checks.ts";

const plural = (count: number, word: string) => `${String(count)} ${word}${count === 1 ? "" : "s"}`;

const CLUSTER_ADVICE =
  "a cluster that is not ok refuses commands on some or all slots, so the ingest answers 503 and the workers stop: run `redis-cli --cluster check <host:port>`, then bring back the failed master (or fail over to a replica of it) or get every slot assigned (`redis-cli --cluster fix`)";

/** A master of a cluster, as `host:port` for the results, with its own connection. */
export interface ClusterMaster {
  address: string;
  redis: Redis;
}

/**
 * The cluster's shape and state: `Redis Cluster, 3 masters (+3 replicas), cluster_state ok`.
 * Fails when any master reports a cluster_state other than ok (CLUSTER INFO) or does not answer,
 * naming each such master; `masters` are the nodes that serve slots in the client's slot map.
 */
export async function checkClusterState(
  masters: readonly ClusterMaster[],
  replicas: number,
): Promise<CheckResult> {
  const shape = `Redis Cluster, ${plural(masters.length, "master")} (+${plural(replicas, "replica")})`;
  if (masters.length === 0) {
    return fail("redis cluster", `${shape}: no master serves slots`, CLUSTER_ADVICE);
  }
  const states = await Promise.all(
    masters.map(async ({ address, redis }) => {
      try {
        const state = parseFields(await redis.cluster("INFO")).get("cluster_state");
        return { address, state: state ?? "unknown" };
      } catch (error) {
        return { address, state: `unknown (${errorMessage(error)})` };
      }
    }),
  );
  const bad = states.filter(({ state }) => state !== "ok");
  if (bad.length === 0) return ok("redis cluster", `${shape}, cluster_state ok`);
  return fail(
    "redis cluster",
    `${shape}, cluster_state ${bad.map(({ address, state }) => `${state} on ${address}`).join(", ")}`,
    CLUSTER_ADVICE,
  );
}

/**
 * Which node Sentinel handed out and what it is: `Sentinel <name>: primary host:port (1 replica)`.
 * Fails when that node does not report role:master (a Sentinel with a stale view).
 */
export async function checkSentinelPrimary(
  redis: Redis,
  masterName: string,
  address: string,
): Promise<CheckResult> {
  const info = await readInfo(redis, "replication");
  const role = info.get("role") ?? "unknown";
  const replicas = Number(info.get("connected_slaves") ?? "0");
  const detail = `Sentinel ${masterName}: primary ${address} (${plural(replicas, "replica")})`;
  if (role === "master") return ok("redis sentinel", detail);
  return fail(
    "redis sentinel",
    `${detail} reports role ${role}, not master`,
    "check `SENTINEL MASTER <name>` on each Sentinel: they should agree on one primary, the node that reports role:master",
  );
}

/**
 * The version check of a single node, which must not be a node of a Redis Cluster: there, BullMQ
 * gets MOVED for every key of another node's slots.
 */
export async function checkSingleNode(redis: Redis, where: string): Promise<CheckResult> {
  const version = await checkRedisVersion(redis, `${where} (single node)`);
  if (version.status !== "ok") return version;
  if ((await readInfo(redis, "cluster")).get("cluster_enabled") === "1") {
    return fail(
      "redis",
      `${where} is a node of a Redis Cluster: commands on the keys of other nodes' slots fail (MOVED)`,
      "set REDIS_CLUSTER_NODES (--redis-cluster-nodes) to the cluster's nodes instead of REDIS_URL (--redis-url)",
    );
  }
  return version;
}
