import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import {
  connectTestRedis,
  deleteKeys,
  testRedisUrl,
  uniquePrefix,
} from "@fanfare-relay/testing/redis";
import { freePort } from "@fanfare-relay/testing/free-port";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobIdForEvent } from "../src/job-id.ts";
import { EventProducer, RedisUnavailableError } from "../src/producer.ts";
import { createProducerConnection } from "../src/redis-connection.ts";
import { queueKeyBase } from "../src/queue-keys.ts";

const prefix = uniquePrefix("queues");
const connection = createProducerConnection(testRedisUrl);
const producer = new EventProducer({ connection, prefix });

beforeAll(async () => {
  await producer.waitUntilReady();
});
afterAll(async () => {
  const admin = connectTestRedis();
  await deleteKeys(admin, prefix);
  admin.disconnect();
  await producer.close();
  await connection.quit();
});

const queue = (name: string) => {
  const found = producer.queues.get(name as never);
  if (!found) throw new Error(name);
  return found;
};

let n = 0;
const event = (overrides: Record<string, unknown> = {}) => ({
  id: `evt_producer_${(n += 1)}`,
  type: "experience.paused",
  created: 1_764_151_000,
  organizationId: "org_1",
  data: { experienceId: "exp_1", pausedAt: "2025-11-26T09:56:40.000Z" },
  ...overrides,
});

describe("EventProducer", () => {
  it("stores a fixture on its family queue: name = type, data = envelope, retries on the schedule", async () => {
    const fixture = fixtureEvents.find((e) => e.type === "draw.winners_selected");
    if (!fixture) throw new Error("fixture missing");
    const result = await producer.enqueue(fixture);
    expect(result).toEqual({
      queueName: "fanfare-draw",
      jobId: fixture.id,
      known: true,
      duplicate: false,
    });
    const job = await queue("fanfare-draw").getJob(fixture.id);
    expect(job?.name).toBe("draw.winners_selected");
    expect(job?.data).toEqual(fixture);
    expect(job?.opts.attempts).toBe(6);
    expect(job?.opts.backoff).toEqual({ type: "fanfare-schedule" });
  });

  it("reports a second delivery as a duplicate and keeps one job", async () => {
    const e = event();
    expect((await producer.enqueue(e)).duplicate).toBe(false);
    expect((await producer.enqueue(e)).duplicate).toBe(true);
    expect(await queue("fanfare-experience").getJobCountByTypes("wait")).toBe(1);
    // The marker outlives the completed job: retention after completion plus the retry span.
    const ttl = await connection.ttl(`${queueKeyBase(prefix, "fanfare-experience")}:seen:${e.id}`);
    expect(ttl).toBeGreaterThan(7 * 24 * 3600 + 38_000);
  });

  it("turns 50 concurrent deliveries of one event into one job and one first delivery", async () => {
    const e = event({ type: "consumer.linked", data: {} });
    const before = await queue("fanfare-consumer").count();
    const results = await Promise.all(Array.from({ length: 50 }, () => producer.enqueue(e)));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await queue("fanfare-consumer").count()).toBe(before + 1);
  });

  it("accepts ids BullMQ would refuse as they are, and still dedupes them", async () => {
    for (const id of ["12345", "a:b:c"]) {
      const e = event({ id, type: "auction.outbid" });
      expect(await producer.enqueue(e)).toMatchObject({
        jobId: jobIdForEvent(id),
        duplicate: false,
      });
      expect((await producer.enqueue(e)).duplicate).toBe(true);
      expect((await queue("fanfare-auction").getJob(jobIdForEvent(id)))?.data.id).toBe(id);
    }
  });

  it("keeps unknown types in fanfare-unrouted", async () => {
    const e = event({ type: "loyalty.points_awarded" });
    expect(await producer.enqueue(e)).toMatchObject({
      queueName: "fanfare-unrouted",
      known: false,
    });
    expect((await queue("fanfare-unrouted").getJob(e.id))?.name).toBe("loyalty.points_awarded");
  });

  it("fails at once, without waiting, when Redis has never been reachable", async () => {
    const dead = createProducerConnection(`redis://127.0.0.1:${await freePort()}`);
    dead.on("error", () => undefined);
    const offline = new EventProducer({ connection: dead, prefix });
    try {
      await expect(offline.enqueue(event())).rejects.toBeInstanceOf(RedisUnavailableError);
    } finally {
      dead.disconnect();
      await offline.close();
    }
  });
});
