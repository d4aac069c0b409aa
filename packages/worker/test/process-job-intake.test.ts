import { createWorkerConnection } from "@fanfare-relay/queues/redis-connection";
import { deleteKeys, testRedisUrl, uniquePrefix } from "@fanfare-relay/testing/redis";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Queue, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobIntake } from "../src/job-intake.ts";

const prefix = uniquePrefix("intake");
const connection = createWorkerConnection(testRedisUrl);
let queue: Queue;
let worker: Worker;
let intake: JobIntake;
const processed: string[] = [];

beforeAll(async () => {
  queue = new Queue("intake", { connection, prefix });
  worker = new Worker(
    "intake",
    async (job) => {
      processed.push(job.name);
      return Promise.resolve();
    },
    // The default 5 s block: a paused worker must not take a job that arrives during it.
    { connection, prefix, autorun: false },
  );
  intake = new JobIntake({
    worker,
    start: () => void worker.run(),
    wake: async () => {
      const marker = worker.keys.marker;
      if (marker !== undefined) await connection.zadd(marker, 0, "0");
    },
  });
  await worker.waitUntilReady();
});
afterAll(async () => {
  await worker.close();
  await queue.close();
  await deleteKeys(connection, prefix);
  await connection.quit();
});

async function stateOf(jobId: string | undefined) {
  const job = jobId === undefined ? undefined : await queue.getJob(jobId);
  return job?.getState();
}

describe("guarantee: a worker paused for a database outage takes no job, and always takes jobs again", () => {
  it("5 outages, a job enqueued during each (while the paused fetch is still blocked) → each waits untouched for 300 ms, then completes once the intake reopens", async () => {
    intake.take();
    const first = await queue.add("before", {});
    await waitUntil(async () => (await stateOf(first.id)) === "completed");
    for (let outage = 1; outage <= 5; outage += 1) {
      await intake.pause();
      expect(worker.isRunning()).toBe(false);
      const job = await queue.add(`during-${String(outage)}`, {});
      const until = Date.now() + 300;
      while (Date.now() < until) {
        expect(await stateOf(job.id)).toBe("waiting");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      intake.take();
      await waitUntil(async () => (await stateOf(job.id)) === "completed");
    }
    expect(processed).toEqual([
      "before",
      "during-1",
      "during-2",
      "during-3",
      "during-4",
      "during-5",
    ]);
  });

  it("reopened while BullMQ's loop is still winding down from the pause (20 quick pause/reopen pairs) → the loop runs again by the next reopen, and a job enqueued after completes", async () => {
    for (let round = 0; round < 20; round += 1) {
      void intake.pause(0);
      await new Promise((resolve) => setImmediate(resolve));
      intake.take();
    }
    // A reopen that raced the loop's exit leaves it stopped; the next check's take() restarts it.
    await waitUntil(async () => {
      intake.take();
      return Promise.resolve(worker.isRunning() && !worker.isPaused());
    });
    const job = await queue.add("after-races", {});
    await waitUntil(async () => {
      intake.take();
      return (await stateOf(job.id)) === "completed";
    });
    expect(intake.alive).toBe(true);
  });
});
