import { startRedisServer, type RedisServer } from "@fanfare-relay/testing/redis-server";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobIdForEvent } from "../src/job-id.ts";
import { EventProducer } from "../src/producer.ts";
import { createProducerConnection } from "../src/redis-connection.ts";
import { queueKeyBase } from "../src/queue-keys.ts";

const prefix = "oom";
let server: RedisServer;
let admin: Redis;
let connection: Redis;
let producer: EventProducer;

beforeAll(async () => {
  server = await startRedisServer({ args: ["--maxmemory-policy", "noeviction"] });
  admin = new Redis(server.url);
  connection = createProducerConnection(server.url);
  connection.on("error", () => undefined);
  producer = new EventProducer({ connection, prefix });
  await producer.waitUntilReady();
});
afterAll(async () => {
  await producer.close();
  connection.disconnect();
  admin.disconnect();
  await server.stop();
});

const event = (i: number) => ({
  id: `evt_oom_${i}`,
  type: "experience.paused",
  created: 1_764_151_000,
  organizationId: "org_1",
  data: { experienceId: "exp_1", pausedAt: "2025-11-26T09:56:40.000Z", note: "n".repeat(2_000) },
});

async function usedMemory(): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await admin.info("memory"))?.[1]);
}

describe("fault: Redis refuses writes (out of memory under noeviction)", () => {
  it("deliveries into a full Redis until 4 are refused → each rejects and leaves no seen marker and no job; after maxmemory is raised, each redelivery is stored as a first delivery (duplicate false)", async () => {
    // Warm up (queue keys, scripts loaded), then leave about 30 KB of headroom.
    for (let i = 0; i < 10; i++) await producer.enqueue(event(i));
    await admin.config("SET", "maxmemory", String((await usedMemory()) + 30_000));

    const refused: number[] = [];
    for (let i = 100; i < 1_000 && refused.length < 4; i++) {
      const error = await producer.enqueue(event(i)).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      if (error === undefined) continue;
      expect((error as Error).message).toMatch(/OOM/);
      refused.push(i);
    }
    expect(refused).toHaveLength(4);

    const queue = producer.queues.get("fanfare-experience");
    for (const i of refused) {
      const jobId = jobIdForEvent(event(i).id);
      expect(
        await admin.exists(`${queueKeyBase(prefix, "fanfare-experience")}:seen:${jobId}`),
      ).toBe(0);
      expect(await queue?.getJob(jobId)).toBeUndefined();
    }

    await admin.config("SET", "maxmemory", "0");
    for (const i of refused) {
      const result = await producer.enqueue(event(i));
      expect(result).toMatchObject({ duplicate: false });
      expect((await queue?.getJob(result.jobId))?.data).toEqual(event(i));
      expect((await producer.enqueue(event(i))).duplicate).toBe(true);
    }
  });
});
