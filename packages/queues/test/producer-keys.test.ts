import type { Envelope } from "@fanfare-relay/events/envelope";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { allQueueNames, type QueueName } from "@fanfare-relay/events/families";
import {
  connectTestRedis,
  deleteKeys,
  testRedisUrl,
  uniquePrefix,
} from "@fanfare-relay/testing/redis";
import type { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobIdForEvent } from "../src/job-id.ts";
import { DEFAULT_COMPLETED_RETENTION_SECONDS } from "../src/job-options.ts";
import { EventProducer } from "../src/producer.ts";
import { queueKeyBase } from "../src/queue-keys.ts";
import { EVENTS_STREAM_MAX_LEN } from "../src/queue-settings.ts";
import { createProducerConnection } from "../src/redis-connection.ts";
import { RETRY_SPAN_SECONDS } from "../src/retry-schedule.ts";

const prefix = uniquePrefix("queues-keys");
const shortPrefix = uniquePrefix("queues-keys-short");
const connection = createProducerConnection(testRedisUrl);
const admin = connectTestRedis();
const producer = new EventProducer({ connection, prefix });
const shortRetention = new EventProducer({
  connection,
  prefix: shortPrefix,
  completedRetentionSeconds: 86_400,
  failedRetentionSeconds: 3_600,
});

beforeAll(async () => {
  await Promise.all([producer.waitUntilReady(), shortRetention.waitUntilReady()]);
});
afterAll(async () => {
  await producer.close();
  await shortRetention.close();
  await connection.quit();
  await deleteKeys(admin, prefix);
  await deleteKeys(admin, shortPrefix);
  admin.disconnect();
});

function queueOf(p: EventProducer, name: QueueName): Queue {
  const found = p.queues.get(name);
  if (!found) throw new Error(`no queue ${name}`);
  return found;
}

let n = 0;
const event = (overrides: Partial<Envelope> = {}): Envelope => ({
  id: `evt_keys_${(n += 1)}`,
  type: "draw.prize_claimed",
  created: 1_764_151_000,
  organizationId: "org_1",
  data: { drawId: "d", experienceId: "e", consumerId: "c", claimedAt: "2025-11-26T09:56:40Z" },
  ...overrides,
});

describe("the producer's queues", () => {
  it("are the five family queues and fanfare-unrouted, each under its own hash tag of the prefix", () => {
    expect([...producer.queues.keys()].sort()).toEqual([...allQueueNames].sort());
    for (const [name, queue] of producer.queues) {
      expect(queue.name).toBe(name);
      expect(queue.qualifiedName).toBe(queueKeyBase(prefix, name));
    }
  });
});

describe("every fixture", () => {
  it.each(fixtureEvents.map((fixture) => [fixture.type, fixture] as const))(
    "%s lands on its family queue as one job",
    async (type, fixture) => {
      const family = type.split(".")[0] ?? "";
      const result = await producer.enqueue(fixture);
      expect(result).toEqual({
        queueName: `fanfare-${family}`,
        jobId: jobIdForEvent(fixture.id),
        known: true,
        duplicate: false,
      });
      const job = await queueOf(producer, result.queueName).getJob(result.jobId);
      expect(job?.name).toBe(type);
      expect(job?.data).toEqual(fixture);
      expect(job?.opts).toMatchObject({
        attempts: 6,
        backoff: { type: "fanfare-schedule" },
        removeOnComplete: { age: DEFAULT_COMPLETED_RETENTION_SECONDS },
        removeOnFail: false,
      });
      expect(await producer.enqueue(fixture)).toEqual({ ...result, duplicate: true });
      const waiting = await queueOf(producer, result.queueName).getJobs(["wait"]);
      expect(waiting.filter((j) => j.id === result.jobId)).toHaveLength(1);
    },
  );
});

describe("ids that name BullMQ's own keys", () => {
  const reserved = ["meta", "id", "events", "wait", "active", "marker", "stalled-check", "seen"];

  it("are stored as their own jobs, deduped, and leave the queue working", async () => {
    const queue = queueOf(producer, "fanfare-draw");
    const before = await queue.getJobCounts("wait");
    for (const id of reserved) {
      const e = event({ id });
      const first = await producer.enqueue(e);
      expect(first).toMatchObject({ jobId: `~${id}`, duplicate: false });
      expect(await producer.enqueue(e)).toMatchObject({ jobId: `~${id}`, duplicate: true });
      const job = await queue.getJob(first.jobId);
      expect(job?.data).toEqual(e);
    }
    expect(await queue.getJobCounts("wait")).toEqual({
      wait: (before.wait ?? 0) + reserved.length,
    });
    // The queue's own keys keep their types: nothing was written over them.
    expect(await admin.type(`${queueKeyBase(prefix, "fanfare-draw")}:meta`)).toBe("hash");
    expect(await admin.hget(`${queueKeyBase(prefix, "fanfare-draw")}:meta`, "name")).toBeNull();
    expect(await admin.type(`${queueKeyBase(prefix, "fanfare-draw")}:wait`)).toBe("list");
    expect(await admin.type(`${queueKeyBase(prefix, "fanfare-draw")}:events`)).toBe("stream");
    expect(await admin.type(`${queueKeyBase(prefix, "fanfare-draw")}:id`)).not.toBe("hash");
    expect(await queue.isPaused()).toBe(false);
    // And ordinary events still go through.
    expect((await producer.enqueue(event())).duplicate).toBe(false);
  });
});

describe("the events stream", () => {
  it("is trimmed to EVENTS_STREAM_MAX_LEN, not BullMQ's 10,000, on every queue", async () => {
    for (const name of allQueueNames) {
      expect(await admin.hget(`${queueKeyBase(prefix, name)}:meta`, "opts.maxLenEvents")).toBe(
        String(EVENTS_STREAM_MAX_LEN),
      );
    }
    // XADD … MAXLEN ~ trims whole stream nodes (100 entries each by default).
    const queue = queueOf(producer, "fanfare-consumer");
    await queue.addBulk(
      Array.from({ length: 700 }, (_, index) => ({ name: "consumer.linked", data: { index } })),
    );
    const length = await admin.xlen(`${queueKeyBase(prefix, "fanfare-consumer")}:events`);
    expect(length).toBeGreaterThanOrEqual(EVENTS_STREAM_MAX_LEN);
    expect(length).toBeLessThan(EVENTS_STREAM_MAX_LEN + 200);
  });
});

describe("guarantee: the duplicate answer follows the job, never the other way round", () => {
  it("lives as long as the completed job could, with the default retention", async () => {
    const e = event();
    const { jobId } = await producer.enqueue(e);
    const ttl = await admin.ttl(`${queueKeyBase(prefix, "fanfare-draw")}:seen:${jobId}`);
    const expected = DEFAULT_COMPLETED_RETENTION_SECONDS + RETRY_SPAN_SECONDS;
    expect(ttl).toBeGreaterThan(expected - 60);
    expect(ttl).toBeLessThanOrEqual(expected);
  });

  it("follows a configured retention, as do the job options", async () => {
    const e = event({ id: "12345", type: "auction.outbid" });
    const result = await shortRetention.enqueue(e);
    expect(result).toMatchObject({ queueName: "fanfare-auction", jobId: "~12345" });
    const ttl = await admin.ttl(`${queueKeyBase(shortPrefix, "fanfare-auction")}:seen:~12345`);
    expect(ttl).toBeGreaterThan(86_400 + RETRY_SPAN_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(86_400 + RETRY_SPAN_SECONDS);
    const job = await queueOf(shortRetention, "fanfare-auction").getJob("~12345");
    expect(job?.opts).toMatchObject({
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 3_600 },
    });
  });

  it("is per prefix: the same event on another prefix is a first delivery there", async () => {
    const e = event();
    expect((await producer.enqueue(e)).duplicate).toBe(false);
    expect((await shortRetention.enqueue(e)).duplicate).toBe(false);
    expect((await producer.enqueue(e)).duplicate).toBe(true);
    expect((await shortRetention.enqueue(e)).duplicate).toBe(true);
  });

  it("when lost, the job id still keeps the event to one job", async () => {
    const e = event();
    const { jobId } = await producer.enqueue(e);
    await admin.del(`${queueKeyBase(prefix, "fanfare-draw")}:seen:${jobId}`);
    // Reported as new again (the marker is only advisory), but no second job appears.
    expect((await producer.enqueue(e)).duplicate).toBe(false);
    const jobs = await queueOf(producer, "fanfare-draw").getJobs(["wait"]);
    expect(jobs.filter((job) => job.id === jobId)).toHaveLength(1);
  });
});

describe("guarantee: concurrent deliveries of one event make one job", () => {
  it.each(["evt_concurrent", "12345678", "a:b:c", "wait"])(
    "50 at once of %j make one job and one first delivery",
    async (id) => {
      const e = event({ id, type: "experience.ended" });
      const queue = queueOf(producer, "fanfare-experience");
      const before = await queue.count();
      const results = await Promise.all(Array.from({ length: 50 }, () => producer.enqueue(e)));
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.jobId))).toEqual(new Set([jobIdForEvent(id)]));
      expect(await queue.count()).toBe(before + 1);
      expect((await queue.getJob(jobIdForEvent(id)))?.data.id).toBe(id);
    },
  );

  it("many different events at once all land", async () => {
    const events = Array.from({ length: 100 }, (_, i) =>
      event({ id: i % 2 === 0 ? `evt_bulk_${i}` : `${i}:bulk`, type: "consumer.linked" }),
    );
    const queue = queueOf(producer, "fanfare-consumer");
    const before = await queue.count();
    const results = await Promise.all(events.map((e) => producer.enqueue(e)));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(await queue.count()).toBe(before + 100);
  });
});

describe("unknown types", () => {
  it("go to fanfare-unrouted with their type as the job name and dedupe there", async () => {
    const e = event({ type: "loyalty.points_awarded", data: { points: 5 } });
    const result = await producer.enqueue(e);
    expect(result).toEqual({
      queueName: "fanfare-unrouted",
      jobId: e.id,
      known: false,
      duplicate: false,
    });
    const job = await queueOf(producer, "fanfare-unrouted").getJob(e.id);
    expect(job?.name).toBe("loyalty.points_awarded");
    expect(job?.data).toEqual(e);
    expect((await producer.enqueue(e)).duplicate).toBe(true);
  });
});
