import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { parseNodeList } from "@fanfare-relay/queues/redis-target";
import { z } from "zod";
import { flag } from "./env-fields.ts";

const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/**
 * The Redis variables every app shares (ingest, workers, dashboard; the CLI reads the same names).
 * Exactly one of REDIS_URL (one node, the default), REDIS_CLUSTER_NODES (seeds of a Redis Cluster)
 * or REDIS_SENTINELS (with REDIS_SENTINEL_MASTER) says where Redis is; REDIS_USERNAME,
 * REDIS_PASSWORD and REDIS_TLS apply to whichever it is. Spread into an app's `z.object` and
 * refine the object with `checkRedisEnv`.
 */
export const redisEnvFields = {
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
    .optional(),
  REDIS_CLUSTER_NODES: z.string().trim().optional(),
  REDIS_SENTINELS: z.string().trim().optional(),
  REDIS_SENTINEL_MASTER: z.string().trim().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: flag(false),
  REDIS_PREFIX: z
    .string()
    .min(1)
    .regex(/^[^{}]+$/, {
      error:
        "must not contain { or }: each queue's keys get their own hash tag ({fanfare-queue}, …), so the queues spread over a cluster's nodes",
    })
    .default("fanfare"),
};

export interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_TLS: boolean;
}

/**
 * The object-level rules of the Redis variables, as zod issues (one per problem, never a value
 * but a node list entry): one mode only, node lists that parse, a master name with Sentinels.
 */
export function checkRedisEnv(env: RedisEnv, ctx: z.RefinementCtx): void {
  const set = (
    [
      ["REDIS_URL", env.REDIS_URL],
      ["REDIS_CLUSTER_NODES", env.REDIS_CLUSTER_NODES],
      ["REDIS_SENTINELS", env.REDIS_SENTINELS],
    ] as const
  ).filter(([, value]) => value !== undefined && value !== "");
  if (set.length > 1) {
    ctx.addIssue({
      code: "custom",
      path: [set[1]?.[0] ?? "REDIS_URL"],
      message: `set one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, not ${set.map(([name]) => name).join(" and ")}`,
    });
  }
  for (const name of ["REDIS_CLUSTER_NODES", "REDIS_SENTINELS"] as const) {
    const value = env[name];
    if (value === undefined) continue;
    const nodes = parseNodeList(value);
    if ("invalid" in nodes) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: /[@/]/.test(nodes.invalid)
          ? "must be a comma-separated list of host:port, not URLs (credentials go in REDIS_USERNAME / REDIS_PASSWORD)"
          : `must be a comma-separated list of host:port (${JSON.stringify(nodes.invalid)} is not)`,
      });
    }
  }
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_MASTER === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_SENTINEL_MASTER"],
      message:
        "is required with REDIS_SENTINELS: the name the Sentinels monitor the primary under (sentinel monitor <name> …)",
    });
  }
}

/** Where Redis is, from env already checked by `checkRedisEnv`. */
export function redisTargetOf(env: RedisEnv): RedisTarget {
  const auth = {
    username: env.REDIS_USERNAME,
    password: env.REDIS_PASSWORD,
    tls: env.REDIS_TLS,
  };
  const nodes = (value: string) => {
    const parsed = parseNodeList(value);
    if ("invalid" in parsed) throw new Error(`invalid node list entry ${parsed.invalid}`);
    return parsed;
  };
  if (env.REDIS_CLUSTER_NODES !== undefined) {
    return { mode: "cluster", nodes: nodes(env.REDIS_CLUSTER_NODES), auth };
  }
  if (env.REDIS_SENTINELS !== undefined) {
    return {
      mode: "sentinel",
      sentinels: nodes(env.REDIS_SENTINELS),
      masterName: env.REDIS_SENTINEL_MASTER ?? "",
      auth,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
    };
  }
  return { mode: "single", url: env.REDIS_URL ?? DEFAULT_REDIS_URL, auth };
}
