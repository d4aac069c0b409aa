import type { Redis } from "ioredis";
import { fail, ok, warn, type CheckResult } from "./check.ts";

/** `INFO <section>` of one node as a map of its `field:value` lines. */
export async function readInfo(redis: Redis, section: string): Promise<Map<string, string>> {
  return parseFields(await redis.info(section));
}

/** The `field:value` lines of an INFO or CLUSTER INFO reply; `#` headings left out. */
export function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

const MIN_MAJOR = 7;

export async function checkRedisVersion(redis: Redis, where: string): Promise<CheckResult> {
  const version = (await readInfo(redis, "server")).get("redis_version") ?? "unknown";
  const major = Number.parseInt(version, 10);
  if (Number.isNaN(major) || major < MIN_MAJOR) {
    return fail(
      "redis",
      `Redis ${version} at ${where}`,
      `upgrade to Redis ${String(MIN_MAJOR)} or newer, the version fanfare-relay and its BullMQ are run and tested on`,
    );
  }
  return ok("redis", `Redis ${version} at ${where}`);
}

export async function checkRedisEviction(redis: Redis): Promise<CheckResult> {
  const policy = (await readInfo(redis, "memory")).get("maxmemory_policy");
  if (policy === "noeviction") return ok("redis eviction", "maxmemory-policy noeviction");
  const advice =
    "run `CONFIG SET maxmemory-policy noeviction` and set `maxmemory-policy noeviction` in redis.conf (or your provider's settings) so it survives a restart";
  if (policy === undefined) {
    return warn("redis eviction", "INFO memory does not report maxmemory_policy", advice);
  }
  return fail(
    "redis eviction",
    `maxmemory-policy is ${policy}: when memory runs short Redis deletes keys, and BullMQ loses jobs`,
    advice,
  );
}

const AOF_ADVICE =
  "run `CONFIG SET appendonly yes` and set `appendonly yes` in redis.conf (with the default `appendfsync everysec` a crash loses at most about a second)";

export interface PersistenceOptions {
  /** A development box: no persistence at all is a warning, not a failure. */
  dev?: boolean;
}

/**
 * AOF on: ok (a warning when its last write failed). AOF off: a warning with RDB snapshots or
 * where CONFIG is disabled (the snapshots cannot be read); with neither a failure, since nothing
 * the ingest acknowledged survives a restart, unless `dev`.
 */
export async function checkRedisPersistence(
  redis: Redis,
  { dev = false }: PersistenceOptions = {},
): Promise<CheckResult> {
  const info = await readInfo(redis, "persistence");
  if (info.get("aof_enabled") === "1") {
    const status = info.get("aof_last_write_status");
    if (status !== undefined && status !== "ok") {
      return warn(
        "redis persistence",
        `AOF enabled, but its last write failed (${status})`,
        "check the Redis log and the disk Redis writes its appendonly file to",
      );
    }
    return ok("redis persistence", "AOF enabled");
  }
  const save = await snapshotSchedule(redis);
  if (save === "") {
    const detail =
      "AOF disabled and no RDB snapshots: nothing survives a restart; a job the ingest acknowledged is lost in a Redis crash or restart";
    return dev
      ? warn("redis persistence", `${detail} (accepted on a development box)`, AOF_ADVICE)
      : fail(
          "redis persistence",
          detail,
          `${AOF_ADVICE}; on a development box pass --dev (or FANFARE_DEV=true) to accept it`,
        );
  }
  const what =
    save === undefined ? "AOF disabled" : `AOF disabled, RDB snapshots only (save ${save})`;
  return warn(
    "redis persistence",
    `${what}; a job the ingest acknowledged could be lost in a Redis crash`,
    AOF_ADVICE,
  );
}

/** The `save` setting; undefined where CONFIG is disabled (many hosted Redis services). */
async function snapshotSchedule(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config("GET", "save")) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}
