import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** The Redis the test suite runs against (a server already running, or the one .ci/run starts). */
export const testRedisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A key prefix of its own per test file, so files can run in parallel on one Redis. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix`: tests leave the shared Redis as they found it. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}

export function connectTestRedis(): Redis {
  return new Redis(testRedisUrl, { maxRetriesPerRequest: 1 });
}
