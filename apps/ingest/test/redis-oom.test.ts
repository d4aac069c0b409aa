import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, signedDelivery, uniqueEvent, type Harness } from "./helpers.ts";

let server: RedisServer;
let admin: Redis;
let h: Harness;

beforeAll(async () => {
  server = await startRedisServer({ args: ["--maxmemory-policy", "noeviction"] });
  admin = new Redis(server.url);
  h = await createHarness({ redisUrl: server.url });
});
afterAll(async () => {
  await admin.config("SET", "maxmemory", "0");
  await h.close();
  admin.disconnect();
  await server.stop();
});

async function usedMemory(): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await admin.info("memory"))?.[1]);
}

const jobOf = (event: Envelope) => h.producer.queues.get("fanfare-queue")?.getJob(event.id);

describe("fault: Redis refuses writes (out of memory under noeviction), as a sender sees it", () => {
  it("signed deliveries into a full Redis until 3 are refused → each 503 INGEST_UNAVAILABLE with Retry-After and no job; memory freed → the redelivery of each is 200 {received: true} (duplicate not true) and its job exists; a second redelivery is the duplicate", async () => {
    // Warm up (queue keys, scripts loaded), then leave about 30 KB of headroom.
    for (let i = 0; i < 10; i++) {
      expect((await h.app.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);
    }
    await admin.config("SET", "maxmemory", String((await usedMemory()) + 30_000));

    const refused: Envelope[] = [];
    for (let i = 0; i < 2_000 && refused.length < 3; i++) {
      const event = uniqueEvent();
      const response = await h.app.inject(signedDelivery(event));
      if (response.statusCode === 200) continue;
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: "INGEST_UNAVAILABLE" });
      expect(response.headers["retry-after"]).toBeDefined();
      refused.push(event);
    }
    expect(refused).toHaveLength(3);
    for (const event of refused) expect(await jobOf(event)).toBeUndefined();

    await admin.config("SET", "maxmemory", "0");
    for (const event of refused) {
      const redelivery = await h.app.inject(signedDelivery(event));
      expect(redelivery.statusCode).toBe(200);
      const body = redelivery.json<{ received: boolean; duplicate?: boolean }>();
      expect(body).toEqual({ received: true });
      expect(body.duplicate ?? false).toBe(false);
      expect((await jobOf(event))?.data).toEqual(event);

      const again = await h.app.inject(signedDelivery(event));
      expect(again.json()).toEqual({ received: true, duplicate: true });
    }
  });
});
