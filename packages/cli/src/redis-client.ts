import {
  createRedisConnection,
  type RedisConnection,
} from "@fanfare-relay/queues/redis-connection";
import type { RedisNodeAddress, RedisTarget } from "@fanfare-relay/queues/redis-target";
import type { Cluster, Redis } from "ioredis";
import { redactUrl } from "./connection-options.ts";
import { CliError } from "./cli-error.ts";
import { errorMessage, withTimeout } from "./with-timeout.ts";

/** `host:port`, with brackets around an IPv6 host. */
export function nodeAddress({ host, port }: RedisNodeAddress): string {
  return `${host.includes(":") ? `[${host}]` : host}:${String(port)}`;
}

/**
 * Where Redis is, for messages, without a password: `Redis at redis://…`,
 * `Redis Cluster at 127.0.0.1:7000,…`, `Redis primary "name" of Sentinels 127.0.0.1:26379`.
 */
export function describeTarget(target: RedisTarget): string {
  switch (target.mode) {
    case "single":
      return `Redis at ${redactUrl(target.url)}`;
    case "cluster":
      return `Redis Cluster at ${target.nodes.map(nodeAddress).join(",")}`;
    case "sentinel":
      return `Redis primary "${target.masterName}" of Sentinels ${target.sentinels.map(nodeAddress).join(",")}`;
  }
}

/** Redis's answers to a wrong or missing password or ACL user. */
const AUTH_ERROR = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username-password/i;

/**
 * A connection for a short-lived command, to one node, a Redis Cluster or Sentinel's primary: it
 * fails fast instead of waiting for Redis to come back (no reconnects, no offline queue, every
 * command bounded by `timeoutMs`). Resolves once the connection is ready (a cluster's: its slot
 * map loaded from a seed); rejects with CliError CLI_REDIS_AUTH (credentials refused), CLI_REDIS_UNREACHABLE, or CLI_TIMEOUT when
 * nothing answers within `timeoutMs`. The caller disconnects it.
 *
 * A cluster's ready check is off: a cluster whose state is not ok still connects, so that
 * `doctor` can say so (commands on slots it does not serve fail with CLUSTERDOWN).
 */
export function openRedis(
  target: Extract<RedisTarget, { mode: "cluster" }>,
  timeoutMs: number,
): Promise<Cluster>;
export function openRedis(
  target: Exclude<RedisTarget, { mode: "cluster" }>,
  timeoutMs: number,
): Promise<Redis>;
export function openRedis(target: RedisTarget, timeoutMs: number): Promise<RedisConnection>;
export async function openRedis(target: RedisTarget, timeoutMs: number): Promise<RedisConnection> {
  const redis = createRedisConnection(
    target,
    {},
    {
      node: {
        connectTimeout: timeoutMs,
        commandTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        // A server that never answers must not hold the process for ioredis's default 2 s on close.
        disconnectTimeout: 200,
        lazyConnect: true,
      },
      retryStrategy: () => null,
      enableOfflineQueue: false,
      cluster: { lazyConnect: true, enableReadyCheck: false, slotsRefreshTimeout: timeoutMs },
      sentinel: { sentinelCommandTimeout: timeoutMs },
    },
  );
  // Failures surface through connect() and the commands; without a listener ioredis would log them.
  // The last one is kept: a refused password closes the connection, and connect() only says so.
  let lastError: unknown;
  redis.on("error", (error: unknown) => {
    lastError = error;
  });
  const where = describeTarget(target);
  try {
    // connectTimeout covers the TCP connection only, not a server that never answers.
    await withTimeout(redis.connect(), timeoutMs, where);
    return redis;
  } catch (error) {
    redis.disconnect();
    if (error instanceof CliError) throw error;
    const refused = [lastError, error]
      .map(errorMessage)
      .find((message) => AUTH_ERROR.test(message));
    if (refused !== undefined) {
      throw new CliError("CLI_REDIS_AUTH", `${where} refused the credentials: ${refused}`);
    }
    throw new CliError("CLI_REDIS_UNREACHABLE", `${where} is unreachable: ${errorMessage(error)}`);
  }
}
