import { freePort } from "@fanfare-relay/testing/free-port";
import { uniquePrefix } from "@fanfare-relay/testing/redis";
import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { spawnApp, waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Redis } from "ioredis";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  captureLogs,
  createHarness,
  SECRET,
  signedDelivery,
  uniqueEvent,
  type CapturedLogs,
  type Harness,
} from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redisWith(args: string[]): Promise<RedisServer> {
  const server = await startRedisServer({ args });
  cleanups.push(() => server.stop());
  return server;
}

async function ingestOn(
  server: RedisServer,
  logs: CapturedLogs,
  options: { allowEviction?: boolean } = {},
): Promise<Harness> {
  const h = await createHarness({
    redisUrl: server.url,
    logger: logs.logger,
    evictionCheckIntervalMs: 100,
    ...options,
  });
  cleanups.push(() => h.close());
  return h;
}

function admin(server: RedisServer): Redis {
  const client = new Redis(server.url);
  cleanups.push(() => {
    client.disconnect();
    return Promise.resolve();
  });
  return client;
}

/** Every key BullMQ or the seen marker could have written under the harness's prefix. */
async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys = await client.keys(`${prefix}:*`);
  // The queues' own bookkeeping (meta, events stream) exists from start; jobs and markers do not.
  return keys.filter((key) => /:(seen:|wait$|id$)|:\d|:evt_/.test(key));
}

const policyErrorLines = (logs: CapturedLogs) =>
  logs.lines().filter((line) => String(line.msg).includes("maxmemory-policy is allkeys-lru"));

describe("fault: Redis may evict keys (maxmemory-policy other than noeviction)", () => {
  it("3,000 signed deliveries to a Redis with maxmemory 3mb and maxmemory-policy allkeys-lru → every one 503 INGEST_REDIS_MAY_EVICT with Retry-After, /readyz 503 naming the setting, 0 jobs, one error log line naming maxmemory-policy and the fix", async () => {
    const server = await redisWith(["--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru"]);
    const logs = captureLogs();
    const h = await ingestOn(server, logs);

    const statuses = new Map<string, number>();
    for (let batch = 0; batch < 30; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, () => h.app.inject(signedDelivery(uniqueEvent()))),
      );
      for (const response of responses) {
        expect(response.statusCode).toBe(503);
        expect(response.headers["retry-after"]).toBeDefined();
        const { code } = response.json<{ code: string }>();
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ INGEST_REDIS_MAY_EVICT: 3_000 });

    const ready = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      status: "redis_may_evict",
      reason: expect.stringMatching(/maxmemory-policy is allkeys-lru.*noeviction/),
    });
    expect(await keysUnder(admin(server), h.prefix)).toEqual([]);

    const errorLines = policyErrorLines(logs);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatchObject({ level: 50, maxmemoryPolicy: "allkeys-lru" });
    expect(String(errorLines[0]?.msg)).toMatch(/CONFIG SET maxmemory-policy noeviction/);
    expect(String(errorLines[0]?.msg)).toMatch(/REDIS_ALLOW_EVICTION=true/);
    // No line per refused delivery.
    expect(logs.lines().length).toBeLessThan(10);
    const metrics = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain('fanfare_ingest_requests_total{outcome="unavailable"} 3000');
  });

  it("CONFIG SET maxmemory-policy noeviction at run time → deliveries accepted again (200, job stored) and /readyz 200, without a restart", async () => {
    const server = await redisWith(["--maxmemory-policy", "allkeys-lru"]);
    const logs = captureLogs();
    const h = await ingestOn(server, logs);
    expect((await h.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(503);

    await admin(server).config("SET", "maxmemory-policy", "noeviction");
    const event = uniqueEvent();
    await waitUntil(async () => (await h.app.inject(signedDelivery(event))).statusCode === 200);
    expect(await h.producer.queues.get("fanfare-queue")?.getJob(event.id)).toBeDefined();
    expect((await h.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    expect(logs.lines().some((line) => String(line.msg).includes("noeviction"))).toBe(true);

    // And back: the periodic check sees it turned off again.
    await admin(server).config("SET", "maxmemory-policy", "volatile-lru");
    await waitUntil(
      async () => (await h.app.inject(signedDelivery(uniqueEvent()))).statusCode === 503,
    );
    const refused = await h.app.inject(signedDelivery(uniqueEvent()));
    expect(refused.json()).toMatchObject({ code: "INGEST_REDIS_MAY_EVICT" });
  });

  it('a Redis started with --rename-command CONFIG "" (managed Redis) and allkeys-lru → read from INFO memory: 503 INGEST_REDIS_MAY_EVICT; with noeviction → 200', async () => {
    const evicting = await redisWith([
      "--rename-command",
      "CONFIG",
      "",
      "--maxmemory-policy",
      "allkeys-lru",
    ]);
    const refusedLogs = captureLogs();
    const refusing = await ingestOn(evicting, refusedLogs);
    const response = await refusing.app.inject(signedDelivery(uniqueEvent()));
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: "INGEST_REDIS_MAY_EVICT" });
    expect(policyErrorLines(refusedLogs)[0]).toMatchObject({ source: "info" });

    const safe = await redisWith(["--rename-command", "CONFIG", ""]);
    const accepting = await ingestOn(safe, captureLogs());
    expect((await accepting.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);
    expect((await accepting.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("REDIS_ALLOW_EVICTION=true with allkeys-lru → deliveries accepted (200), /readyz 200, one warning at start", async () => {
    const server = await redisWith(["--maxmemory-policy", "allkeys-lru"]);
    const logs = captureLogs();
    const h = await ingestOn(server, logs, { allowEviction: true });
    expect((await h.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);
    expect((await h.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    const warnings = logs.lines().filter((line) => line.level === 40);
    expect(warnings.some((line) => String(line.msg).startsWith("REDIS_ALLOW_EVICTION=true"))).toBe(
      true,
    );
    expect(logs.lines().filter((line) => line.level === 50)).toEqual([]);
  });
});

describe("fault: Redis may evict keys, as the ingest process reports it on its output", () => {
  it("an ingest process started on a Redis with maxmemory-policy allkeys-lru → every output line is JSON (BullMQ's own eviction warnings as warn lines), one error line naming maxmemory-policy, the start line a warn 'ingest started but not ready: …', never 'ingest ready'; /readyz 503", async () => {
    const server = await redisWith(["--maxmemory-policy", "allkeys-lru"]);
    const port = await freePort();
    const proc = spawnApp(fileURLToPath(new URL("..", import.meta.url)), {
      FANFARE_WEBHOOK_SECRETS: SECRET,
      REDIS_URL: server.url,
      REDIS_PREFIX: uniquePrefix("evict-proc"),
      PORT: String(port),
      HOST: "127.0.0.1",
      SHUTDOWN_DRAIN_DELAY_MS: "0",
    });
    const exited = once(proc.child, "exit");
    cleanups.push(async () => {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill("SIGKILL");
        await exited;
      }
    });
    // Either start line, so that the old "ingest ready" fails the assertions below, not a timeout.
    await proc.waitFor('"msg":"ingest ');
    // BullMQ warns once per connection, as each one is set up.
    await waitUntil(() => Promise.resolve(proc.output().includes("IMPORTANT! Eviction policy")));
    expect((await fetch(`http://127.0.0.1:${String(port)}/readyz`)).status).toBe(503);
    proc.child.kill("SIGTERM");
    await exited;

    const text = proc
      .output()
      .split("\n")
      .filter((line) => line.trim() !== "");
    const notJson = text.filter((line) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    const lines = text.map((line) => JSON.parse(line) as Record<string, unknown>);
    const bullmqWarnings = lines.filter((line) =>
      String(line.msg).startsWith("IMPORTANT! Eviction policy is allkeys-lru"),
    );
    expect(bullmqWarnings.length).toBeGreaterThan(0);
    for (const line of bullmqWarnings) {
      expect(line).toMatchObject({ level: 40, service: "ingest", source: "console" });
    }
    expect(
      lines.filter(
        (line) => line.level === 50 && String(line.msg).includes("maxmemory-policy is allkeys-lru"),
      ),
    ).toHaveLength(1);
    const startLines = lines.filter((line) => String(line.msg).startsWith("ingest "));
    expect(startLines.map((line) => line.msg)).not.toContain("ingest ready");
    expect(startLines.filter((line) => String(line.msg).startsWith("ingest started"))).toEqual([
      expect.objectContaining({
        level: 40,
        status: "redis_may_evict",
        msg: expect.stringMatching(
          /^ingest started but not ready: Redis maxmemory-policy is allkeys-lru: .*CONFIG SET maxmemory-policy noeviction/,
        ),
      }),
    ]);
  }, 40_000);
});

describe("guarantee: deliveries are refused until Redis's eviction policy has been read (fail closed)", () => {
  it("policy read on a Redis where neither CONFIG nor INFO answers → delivery 503 INGEST_UNAVAILABLE, nothing stored, /readyz 503 redis_policy_unknown; with REDIS_ALLOW_EVICTION=true → 200", async () => {
    // The producer stores jobs on an ordinary Redis; the policy is read on one that hides it.
    const hidden = await redisWith([
      "--rename-command",
      "CONFIG",
      "",
      "--rename-command",
      "INFO",
      "",
    ]);
    const silent = new Redis(hidden.url, { enableOfflineQueue: false, enableReadyCheck: false });
    await new Promise((resolve) => silent.once("ready", resolve));
    cleanups.push(() => {
      silent.disconnect();
      return Promise.resolve();
    });
    const logs = captureLogs();
    const h = await createHarness({ redis: silent, logger: logs.logger });
    cleanups.push(() => h.close());

    const event = uniqueEvent();
    const response = await h.app.inject(signedDelivery(event));
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: "INGEST_UNAVAILABLE" });
    expect(await h.producer.queues.get("fanfare-queue")?.getJob(event.id)).toBeUndefined();
    const ready = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: "redis_policy_unknown" });

    const allowed = await createHarness({ redis: silent, allowEviction: true });
    cleanups.push(() => allowed.close());
    expect((await allowed.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);
  });
});
