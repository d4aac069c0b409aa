import { jobIdForEvent } from "@fanfare-relay/queues/job-id";
import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { Redis } from "ioredis";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, signedDelivery, uniqueEvent, type Harness } from "./helpers.ts";

let server: RedisServer;
let h: Harness;
beforeAll(async () => {
  server = await startRedisServer();
  h = await createHarness({ redisUrl: server.url, enqueueTimeoutMs: 300 });
});
afterAll(async () => {
  await h.close();
  await server.stop();
});

describe("fault: Redis unreachable or slow while the ingest takes deliveries", () => {
  it("answers 503 with Retry-After, never 200, while Redis is down, and recovers when it is back", async () => {
    expect((await h.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);

    const { connection } = h;
    const closed = once(connection, "close");
    await server.stop();
    await closed;

    const response = await h.app.inject(signedDelivery(uniqueEvent()));
    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toBeDefined();
    expect(response.json()).toMatchObject({ code: "INGEST_UNAVAILABLE" });
    const ready = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: "redis_unavailable" });
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);

    // Not events.once: it rejects on the connection's 'error', which every failed reconnect
    // attempt before the server is back emits.
    const reconnected = new Promise((resolve) => connection.once("ready", resolve));
    await server.start();
    await reconnected;
    expect((await h.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);
    expect((await h.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("answers 503 when the enqueue times out, and the redelivery finds the event kept", async () => {
    const admin = new Redis(server.url);
    try {
      await admin.call("CLIENT", "PAUSE", "5000", "WRITE");
      const event = uniqueEvent();
      const slow = await h.app.inject(signedDelivery(event));
      expect(slow.statusCode).toBe(503);
      expect(slow.headers["retry-after"]).toBeDefined();
      await admin.call("CLIENT", "UNPAUSE");

      const queue = h.producer.queues.get("fanfare-queue");
      const redelivery = await h.app.inject(signedDelivery(event));
      expect(redelivery.statusCode).toBe(200);
      expect(await queue?.getJob(jobIdForEvent(event.id))).toBeDefined();
      expect(await queue?.count()).toBeGreaterThan(0);
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => undefined);
      admin.disconnect();
    }
  });
});
