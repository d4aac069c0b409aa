import type { RedisConnection } from "./redis-connection.ts";
import type { RedisTarget } from "./redis-target.ts";

/**
 * Whether the Redis behind a single-node or Sentinel connection is in fact a Redis Cluster node
 * (`INFO cluster` says `cluster_enabled:1`): there every queue whose slot lives on another node
 * fails with MOVED. Resolves with the message to stop with, or undefined when the mode fits (a
 * cluster target, a standalone node, or a Redis that does not answer INFO: the connection's own
 * errors tell about that).
 */
export async function redisModeMismatch(
  connection: RedisConnection,
  target: RedisTarget,
): Promise<string | undefined> {
  if (target.mode === "cluster") return undefined;
  let info: string;
  try {
    info = await connection.info("cluster");
  } catch {
    return undefined;
  }
  if (!/^cluster_enabled:1\b/m.test(info)) return undefined;
  const variable = target.mode === "single" ? "REDIS_URL" : "REDIS_SENTINELS";
  return `${variable} points at a node of a Redis Cluster: set REDIS_CLUSTER_NODES to its nodes instead (README: Redis Cluster); with one node only the queues whose slots it holds would work`;
}

/**
 * Once `connection` is first ready, checks its mode (`redisModeMismatch`) and calls `onMismatch`
 * with the message when a single-node or Sentinel setting points at a cluster node. The apps stop
 * there: running on would answer MOVED for most queues.
 */
export function checkRedisModeWhenReady(
  connection: RedisConnection,
  target: RedisTarget,
  onMismatch: (problem: string) => void,
): void {
  connection.once("ready", () => {
    void redisModeMismatch(connection, target).then((problem) => {
      if (problem !== undefined) onMismatch(problem);
    });
  });
}
