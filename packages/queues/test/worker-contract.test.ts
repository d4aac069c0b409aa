import type { QueueName } from "@fanfare-relay/events/families";
import type { Envelope } from "@fanfare-relay/events/envelope";
import {
  connectTestRedis,
  deleteKeys,
  testRedisUrl,
  uniquePrefix,
} from "@fanfare-relay/testing/redis";
import { Worker, type Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventIdForJob, jobIdForEvent } from "../src/job-id.ts";
import { EventProducer } from "../src/producer.ts";
import { createProducerConnection, createWorkerConnection } from "../src/redis-connection.ts";
import { MAX_ATTEMPTS, retryDelayMs } from "../src/retry-schedule.ts";
import { bullPrefix } from "../src/queue-keys.ts";

// What the workers will rely on, checked against a real BullMQ worker: the jobs the producer
// writes can be processed whatever their id, and retryDelayMs is called the way it assumes.

const prefix = uniquePrefix("queues-worker");
const connection = createProducerConnection(testRedisUrl);
const producer = new EventProducer({ connection, prefix });
const workers: Worker[] = [];
const workerConnections: ReturnType<typeof createWorkerConnection>[] = [];

beforeAll(async () => {
  await producer.waitUntilReady();
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  await Promise.all(workerConnections.map((c) => c.quit()));
  await producer.close();
  await connection.quit();
  const admin = connectTestRedis();
  await deleteKeys(admin, prefix);
  admin.disconnect();
});

function startWorker(
  queueName: QueueName,
  processor: (job: Job<Envelope>) => Promise<void>,
  backoffStrategy?: (attemptsMade: number) => number,
): Worker<Envelope> {
  const workerConnection = createWorkerConnection(testRedisUrl);
  workerConnections.push(workerConnection);
  const worker = new Worker<Envelope>(queueName, processor, {
    connection: workerConnection,
    prefix: bullPrefix(prefix, queueName),
    settings: backoffStrategy ? { backoffStrategy } : {},
  });
  workers.push(worker);
  return worker;
}

const event = (id: string, type: string): Envelope => ({
  id,
  type,
  created: 1_764_151_000,
  organizationId: "org_1",
  data: {},
});

describe("a worker", () => {
  it("processes every job the producer wrote, odd ids included, and finds the event id", async () => {
    const ids = ["evt_plain", "12345", "a:b:c", "~x", "with space", "💥", "meta", "active", "wait"];
    const processed = new Map<string, string>();
    let completed = 0;
    const allDone = new Promise<void>((resolve, reject) => {
      const worker = startWorker("fanfare-consumer", (job) => {
        processed.set(job.id ?? "", job.data.id);
        return Promise.resolve();
      });
      worker.on("error", reject);
      worker.on("completed", () => {
        completed += 1;
        if (completed === ids.length) resolve();
      });
    });
    for (const id of ids) await producer.enqueue(event(id, "consumer.linked"));
    await allDone;

    for (const id of ids) {
      const jobId = jobIdForEvent(id);
      expect(processed.get(jobId)).toBe(id);
      expect(eventIdForJob(jobId)).toBe(id);
    }
    const queue = producer.queues.get("fanfare-consumer");
    expect(await queue?.getJobCounts("completed", "failed", "wait", "active")).toEqual({
      completed: ids.length,
      failed: 0,
      wait: 0,
      active: 0,
    });
    // A completed job is still the memory of the event: redelivery adds nothing.
    const again = await producer.enqueue(event("12345", "consumer.linked"));
    expect(again.duplicate).toBe(true);
    expect(await queue?.getJobCounts("completed", "wait")).toEqual({
      completed: ids.length,
      wait: 0,
    });
  });

  it("retries a failing job on the schedule, passing 1…5 to the backoff, then keeps it failed", async () => {
    const attemptsSeen: number[] = [];
    const backoffCalls: number[] = [];
    const e = event("evt_always_fails", "auction.outbid");
    const failedForGood = new Promise<Job<Envelope>>((resolve, reject) => {
      const worker = startWorker(
        "fanfare-auction",
        (job) => {
          attemptsSeen.push(job.attemptsMade);
          return Promise.reject(new Error("downstream is down"));
        },
        (attemptsMade) => {
          backoffCalls.push(attemptsMade);
          // 60 s … 8 h shrunk to 1 ms … 288 ms.
          return retryDelayMs(attemptsMade, 0.00001);
        },
      );
      worker.on("error", reject);
      worker.on("failed", (job) => {
        if (job && job.attemptsMade >= MAX_ATTEMPTS) resolve(job);
      });
    });
    await producer.enqueue(e);
    const job = await failedForGood;

    expect(backoffCalls).toEqual([1, 2, 3, 4, 5]);
    expect(attemptsSeen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(job.attemptsMade).toBe(6);
    expect(job.failedReason).toBe("downstream is down");
    expect(await job.getState()).toBe("failed");
    expect(job.id).toBe(jobIdForEvent(e.id));
  });
});
