import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { freePort } from "@fanfare-relay/testing/free-port";
import { uniquePrefix } from "@fanfare-relay/testing/redis";
import { spawnApp, waitUntil, type RunningApp } from "@fanfare-relay/testing/spawn-app";
import { Redis } from "ioredis";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { captureLogs, createHarness, SECRET, signedDelivery, uniqueEvent } from "./helpers.ts";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function privateRedis(args: string[] = []): Promise<RedisServer> {
  const server = await startRedisServer({ args });
  cleanups.push(() => server.stop());
  return server;
}

describe("guarantee: errors reach the logs without Redis command arguments, payloads or email addresses", () => {
  it("deliveries into a Redis out of memory until one is refused (OOM) → one enqueue-failed line, under 2 KB, naming the command but not its arguments, the Lua script or the payload", async () => {
    const server = await privateRedis(["--maxmemory-policy", "noeviction"]);
    const logs = captureLogs();
    const h = await createHarness({ redisUrl: server.url, logger: logs.logger });
    cleanups.push(() => h.close());
    const admin = new Redis(server.url);
    cleanups.push(() => admin.quit());
    const used = Number(/^used_memory:(\d+)/m.exec(await admin.info("memory"))?.[1]);
    await admin.config("SET", "maxmemory", String(used + 30_000));

    const secretPayload = "con_private_person_payload";
    let refused = 0;
    for (let i = 0; i < 500 && refused === 0; i++) {
      const event = uniqueEvent({
        data: { consumerId: secretPayload, position: i, pad: "p".repeat(2_000) },
      });
      const response = await h.app.inject(signedDelivery(event));
      if (response.statusCode === 503) refused += 1;
    }
    expect(refused).toBe(1);
    await admin.config("SET", "maxmemory", "0");

    const failed = logs.lines().filter((line) => String(line.msg).startsWith("enqueue failed"));
    expect(failed).toHaveLength(1);
    const line = JSON.stringify(failed[0]);
    expect(line.length).toBeLessThan(2_048);
    expect(line).toMatch(/OOM/);
    expect(failed[0]).toMatchObject({ err: { command: { name: expect.stringMatching(/^eval/) } } });
    expect(line).not.toContain(secretPayload);
    expect(line).not.toContain("redis.call");
    expect(line).not.toContain('"args"');
  });

  it("a Redis reply error quoting an email address (unknown command ada@example.com), logged as err → the address is [email] in message and stack, and no args", async () => {
    const logs = captureLogs();
    const server = await privateRedis();
    const client = new Redis(server.url);
    cleanups.push(() => client.quit());
    const error = await client.call("ada@example.com", "x").catch((caught: unknown) => caught);
    logs.logger.error({ err: error }, "something failed");
    const line = JSON.stringify(logs.lines()[0]);
    expect(line).toContain("[email]");
    expect(line).not.toContain("ada@example.com");
    // The command name stays (it is what the operator needs), here it is the bogus command itself.
    expect(logs.lines()[0]).toMatchObject({ err: { command: { name: expect.any(String) } } });
    expect(line).not.toContain('"args"');
    expect(line).toContain("redis-parser@"); // stack frames are kept as they are
  });
});

describe("fault: Redis refuses the jobs while its connection stays up (a dead cluster node, OOM)", () => {
  it("40 deliveries refused with OOM, then Redis takes them again → 40 × 503, then 200; one line when the refusals start, one when they end (failed: 40), none per request", async () => {
    const server = await privateRedis(["--maxmemory-policy", "noeviction"]);
    const logs = captureLogs();
    const h = await createHarness({ redisUrl: server.url, logger: logs.logger });
    cleanups.push(() => h.close());
    const admin = new Redis(server.url);
    cleanups.push(() => admin.quit());
    const used = Number(/^used_memory:(\d+)/m.exec(await admin.info("memory"))?.[1]);
    await admin.config("SET", "maxmemory", String(used - 1));

    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      statuses.push((await h.app.inject(signedDelivery(uniqueEvent()))).statusCode);
    }
    await admin.config("SET", "maxmemory", "0");
    statuses.push((await h.app.inject(signedDelivery(uniqueEvent()))).statusCode);

    expect(statuses).toEqual([...Array.from({ length: 40 }, () => 503), 200]);
    const lines = logs.lines().filter((line) => String(line.msg).startsWith("enqueue"));
    expect(lines.map((line) => line.msg)).toEqual([
      "enqueue failed; deliveries are answered 503 until Redis takes them again",
      "enqueue works again",
    ]);
    expect(lines[1]).toMatchObject({ failed: 40, queue: "fanfare-queue" });
  });
});

describe("fault: Redis is down while deliveries and readiness probes keep coming", () => {
  it("a 3 s outage of the ingest's Redis while 15 deliveries and 1 /readyz probe go out every 100 ms (≥ 150 deliveries) → every delivery and probe 503, one log line when it starts, one when it ends, none per request or probe; outages_total 1", async () => {
    const server = await privateRedis();
    const port = await freePort();
    const proc: RunningApp = spawnApp(appDir, {
      FANFARE_WEBHOOK_SECRETS: SECRET,
      REDIS_URL: server.url,
      REDIS_PREFIX: uniquePrefix("logs"),
      PORT: String(port),
      HOST: "127.0.0.1",
      SHUTDOWN_DRAIN_DELAY_MS: "0",
    });
    cleanups.push(async () => {
      if (proc.child.exitCode === null) {
        const exited = once(proc.child, "exit");
        proc.child.kill("SIGKILL");
        await exited;
      }
    });
    const base = `http://127.0.0.1:${port}`;
    await proc.waitFor('"msg":"ingest ready"');
    await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200);

    const linesBefore = proc.output().split("\n").length;
    await server.stop();
    await proc.waitFor('"msg":"redis connection error"');

    // 15 deliveries and one probe every 100 ms for 3 s, not waiting for the answers to send more.
    const deliveries: Promise<number>[] = [];
    const probes: Promise<number>[] = [];
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      for (let i = 0; i < 15; i++) {
        const delivery = signedDelivery(uniqueEvent());
        deliveries.push(
          fetch(`${base}${delivery.url}`, {
            method: "POST",
            headers: delivery.headers,
            body: delivery.payload,
          }).then(async (response) => {
            await response.arrayBuffer();
            return response.status;
          }),
        );
      }
      probes.push(
        fetch(`${base}/readyz`).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const statuses = await Promise.all(deliveries);
    // Up to 450; fewer when the machine is busy, which changes nothing about the lines.
    expect(statuses.length).toBeGreaterThanOrEqual(150);
    expect(new Set(statuses)).toEqual(new Set([503]));
    expect(new Set(await Promise.all(probes))).toEqual(new Set([503]));

    await server.start();
    await proc.waitFor('"msg":"redis connection restored"');
    await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200);

    const outageLines = proc
      .output()
      .split("\n")
      .slice(linesBefore - 1)
      .filter((line) => line.startsWith("{"));
    const messages = outageLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages.filter((msg) => msg === "redis connection error")).toHaveLength(1);
    expect(messages.filter((msg) => msg === "redis connection restored")).toHaveLength(1);
    // The eviction policy is read again on reconnect: at most that line besides the two.
    expect(messages.length, messages.join("\n")).toBeLessThanOrEqual(3);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain("fanfare_ingest_redis_outages_total 1");
    expect(metrics).toMatch(/fanfare_ingest_requests_total\{outcome="unavailable"\} [1-9]\d+/);
  }, 30_000);
});

describe("request log lines", () => {
  it("a rejected delivery's warn line carries its request id and the service, as a pino child's would; at debug an accepted one logs too, at info it does not", async () => {
    const info = captureLogs();
    const h = await createHarness({ logger: info.logger });
    cleanups.push(() => h.close());
    const accepted = signedDelivery(uniqueEvent());
    expect((await h.app.inject(accepted)).statusCode).toBe(200);
    const signed = signedDelivery(uniqueEvent());
    const rejected = {
      ...signed,
      headers: {
        ...signed.headers,
        "x-fanfare-signature": "t=1,v1=00",
        "x-request-id": "req-log-test-1",
      },
    };
    expect((await h.app.inject(rejected)).statusCode).toBe(401);
    const lines = info.lines().filter((line) => line.msg !== undefined && "reqId" in line);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        service: "ingest",
        reqId: "req-log-test-1",
        code: "INGEST_MALFORMED_SIGNATURE",
        msg: "webhook rejected",
      }),
    ]);

    const debug = captureLogs("debug");
    const d = await createHarness({ logger: debug.logger });
    cleanups.push(() => d.close());
    const event = uniqueEvent();
    expect((await d.app.inject(signedDelivery(event))).statusCode).toBe(200);
    expect(debug.lines().find((line) => line.msg === "webhook received")).toMatchObject({
      level: 20,
      eventId: event.id,
      reqId: expect.any(String),
    });
  });
});
