import { familyQueueNames } from "@fanfare-relay/events/families";
import { createWorkerConnection } from "@fanfare-relay/queues/redis-connection";
import { testRedisUrl } from "@fanfare-relay/testing/redis";
import { UnrecoverableError, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { reconcileDeadLetters } from "../src/reconcile-dead-letters.ts";
import { createWorkerHarness, sampleEvent, type WorkerHarness } from "../src/testing/harness.ts";
import { startOwnWorker, type OwnWorker } from "./own-worker.ts";
import { stubHandlers } from "./stub-handlers.ts";
import { bullPrefix } from "@fanfare-relay/queues/queue-keys";

let h: WorkerHarness | undefined;
let own: OwnWorker | undefined;
afterEach(async () => {
  await own?.close();
  await h?.close();
  own = undefined;
  h = undefined;
});

/**
 * Enqueues `count` events and fails their jobs with a bare BullMQ worker that records nothing, as
 * a worker killed between BullMQ failing a job and its bookkeeping would.
 */
async function failWithoutBookkeeping(t: WorkerHarness, count: number) {
  const connection = createWorkerConnection(testRedisUrl);
  const bare = new Worker(
    familyQueueNames.experience,
    () => Promise.reject(new UnrecoverableError("job stalled more than allowable limit")),
    { connection, prefix: bullPrefix(t.prefix, familyQueueNames.experience), concurrency: 4 },
  );
  const events = Array.from({ length: count }, () => sampleEvent("experience.started"));
  const queue = t.producer.queues.get(familyQueueNames.experience);
  if (queue === undefined) throw new Error("no experience queue");
  for (const event of events) await t.producer.enqueue(event);
  await expect.poll(() => queue.getFailedCount(), { timeout: 10_000 }).toBe(count);
  await bare.close();
  await connection.quit();
  return events;
}

describe("fault: jobs that failed for good while no worker could record them", () => {
  it("3 jobs in BullMQ's failed set with no row, letter or alert (their worker died) → at the next worker's start 3 letters, 3 `dead` rows, 3 alerts; 2 more rounds add none", async () => {
    const t = await createWorkerHarness("experience", stubHandlers({ failures: 0, runs: 0 }));
    h = t;
    await t.worker.close();
    const events = await failWithoutBookkeeping(t, 3);
    expect(await t.db.selectFrom("webhook_dead_letters").selectAll().execute()).toEqual([]);

    // Rounds every minute: the one that writes them is the one at start.
    own = startOwnWorker(t, t.db, { reconcileIntervalMs: 60_000, reconcileGraceMs: 0 });
    const letters = () =>
      t.db.selectFrom("webhook_dead_letters").selectAll().orderBy("event_id").execute();
    await expect.poll(async () => (await letters()).length, { timeout: 10_000 }).toBe(3);
    const ids = events.map((event) => event.id).sort();
    expect((await letters()).map((letter) => letter.event_id)).toEqual(ids);
    for (const letter of await letters()) {
      expect(letter).toMatchObject({
        error: "job stalled more than allowable limit",
        resolved_at: null,
      });
    }
    const rows = await t.db.selectFrom("webhook_events").selectAll().orderBy("event_id").execute();
    expect(rows.map((row) => [row.event_id, row.status, row.attempts])).toEqual(
      ids.map((id) => [id, "dead", 1]),
    );
    const alerts = own.logs.filter((line) => line.alert === "dead_letter");
    expect(alerts.map((line) => line.eventId).sort()).toEqual(ids);
    expect(alerts.every((line) => line.recordedLate === true)).toBe(true);
    await t.smtp.waitForMails(3);

    expect(await own.worker.reconcileDeadLetters()).toBe(0);
    expect(await own.worker.reconcileDeadLetters()).toBe(0);
    expect(await letters()).toHaveLength(3);
    expect(own.logs.filter((line) => line.alert === "dead_letter")).toHaveLength(3);
  });

  it("2 failed jobs whose events were applied since (completed, no mail pending) and 1 still unapplied → 1 letter and 1 alert, the completed events stay completed", async () => {
    const t = await createWorkerHarness("experience", stubHandlers({ failures: 0, runs: 0 }));
    h = t;
    await t.worker.close();
    const events = await failWithoutBookkeeping(t, 3);
    const [first, second, unapplied] = events.map((event) => event.id);
    if (first === undefined || second === undefined || unapplied === undefined) throw new Error();
    // As a redelivery under another job id, or a retry that raced the round, would leave them.
    await t.db
      .insertInto("webhook_events")
      .values(
        [first, second].map((id) => ({
          event_id: id,
          type: "experience.started",
          family: "experience",
          status: "completed" as const,
          attempts: 1,
          event_created_at: new Date(),
          processed_at: new Date(),
        })),
      )
      .execute();

    own = startOwnWorker(t, t.db, { reconcileIntervalMs: 0, reconcileGraceMs: 0 });
    expect(await own.worker.reconcileDeadLetters()).toBe(1);
    const letters = await t.db.selectFrom("webhook_dead_letters").select("event_id").execute();
    expect(letters.map((letter) => letter.event_id)).toEqual([unapplied]);
    const rows = await t.db
      .selectFrom("webhook_events")
      .select(["event_id", "status"])
      .orderBy("event_id")
      .execute();
    expect(Object.fromEntries(rows.map((row) => [row.event_id, row.status]))).toEqual({
      [first]: "completed",
      [second]: "completed",
      [unapplied]: "dead",
    });
    const alerts = own.logs.filter((line) => line.alert === "dead_letter");
    expect(alerts.map((line) => line.eventId)).toEqual([unapplied]);
  });

  it("9 failed jobs without letters, read 2 per page → each written exactly once, in one round", async () => {
    const t = await createWorkerHarness("experience", stubHandlers({ failures: 0, runs: 0 }));
    h = t;
    await t.worker.close();
    const events = await failWithoutBookkeeping(t, 9);
    const queue = t.producer.queues.get(familyQueueNames.experience);
    if (queue === undefined) throw new Error("no experience queue");
    const recorded: string[] = [];
    const connection = createWorkerConnection(testRedisUrl);
    try {
      const result = await reconcileDeadLetters({
        db: t.db,
        queue,
        redis: connection,
        since: -Infinity,
        graceMs: 0,
        pageSize: 2,
        record: async (job) => {
          recorded.push(job.id ?? "");
          await t.db
            .insertInto("webhook_dead_letters")
            .values({
              event_id: job.id ?? "",
              type: job.name,
              queue_name: queue.name,
              job_id: job.id ?? "",
              payload: "{}",
              error: "test",
            })
            .execute();
          return true;
        },
      });
      expect(result).toMatchObject({ written: 9, checked: 9 });
      expect(recorded.sort()).toEqual(events.map((event) => event.id).sort());
      // Every letter is there now: a second round from the start writes none.
      const again = await reconcileDeadLetters({
        db: t.db,
        queue,
        redis: connection,
        since: -Infinity,
        graceMs: 0,
        pageSize: 2,
        record: () => Promise.reject(new Error("nothing should be missing")),
      });
      expect(again).toMatchObject({ written: 0, checked: 9 });
    } finally {
      await connection.quit();
    }
  });
});
