import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { EvictionPolicyWatch, readEvictionPolicy } from "../src/eviction-policy.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A private redis-server with `args`, and a client on it. */
async function clientOn(args: string[], options: RedisOptions = {}): Promise<Redis> {
  const server: RedisServer = await startRedisServer({ args });
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, ...options });
  cleanups.push(async () => {
    client.disconnect();
    await server.stop();
  });
  return client;
}

describe("guarantee: Redis's eviction policy is read with CONFIG GET, or from INFO memory where CONFIG is forbidden", () => {
  it("a Redis with maxmemory-policy allkeys-lru → { policy: allkeys-lru, source: config }", async () => {
    const redis = await clientOn(["--maxmemory-policy", "allkeys-lru"]);
    expect(await readEvictionPolicy(redis)).toEqual({ policy: "allkeys-lru", source: "config" });
  });

  it('a Redis started with --rename-command CONFIG "" (managed Redis) → read from INFO memory: { policy: volatile-lru, source: info }; noeviction likewise', async () => {
    const evicting = await clientOn([
      "--rename-command",
      "CONFIG",
      "",
      "--maxmemory-policy",
      "volatile-lru",
    ]);
    await expect(evicting.config("GET", "maxmemory-policy")).rejects.toThrow(/unknown command/);
    expect(await readEvictionPolicy(evicting)).toEqual({ policy: "volatile-lru", source: "info" });

    const safe = await clientOn(["--rename-command", "CONFIG", ""]);
    expect(await readEvictionPolicy(safe)).toEqual({ policy: "noeviction", source: "info" });
  });

  it("a Redis that answers neither CONFIG nor INFO → { policy: undefined, source: none }, without throwing; a watch on it stays unknown and refuses writes", async () => {
    // ioredis's ready check uses INFO: without it here.
    const hidden = await clientOn(
      ["--rename-command", "CONFIG", "", "--rename-command", "INFO", ""],
      { enableReadyCheck: false },
    );
    await hidden.ping();
    expect(await readEvictionPolicy(hidden)).toEqual({ policy: undefined, source: "none" });

    const changes: unknown[] = [];
    const watch = new EvictionPolicyWatch({
      redis: hidden,
      allowEviction: true,
      onChange: (state) => changes.push(state),
    });
    expect(await watch.check()).toEqual({ status: "unknown" });
    expect(watch.acceptsWrites).toBe(false);
    expect(changes).toEqual([]);
  });
});
