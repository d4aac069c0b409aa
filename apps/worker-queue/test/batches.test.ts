import { familyQueueNames } from "@fanfare-relay/events/families";
import {
  createWorkerHarness,
  inMinutes,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { batchesSeen, deliverTogether } from "@fanfare-relay/worker/testing/batches";
import { afterEach, describe, expect, it } from "vitest";
import { queueHandlers } from "../src/handlers.ts";

let h: WorkerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A worker whose batches hold exactly `size` events: each batch waits (up to 10 s) to fill. */
async function batchingWorker(size: number): Promise<WorkerHarness> {
  h = await createWorkerHarness("queue", queueHandlers, {
    batchSize: size,
    batchWaitMs: 10_000,
    concurrency: size,
  });
  return h;
}

const entered = (consumerId: string, position: number) =>
  sampleEvent("queue.consumer_entered", { consumerId, experienceId: "exp_batch", position });

describe("guarantee: events applied in batches, one transaction each", () => {
  it("10 entries in one batch, the 5th unstorable (position 3,000,000,000: valid JSON, past PostgreSQL's integer) → the batch is split, 9 applied once, the 5th fails alone: 1 `dead` row, 1 dead letter", async () => {
    const harness = await batchingWorker(10);
    const events = Array.from({ length: 10 }, (_, index) =>
      entered(`con_batch_${String(index)}`, index === 4 ? 3_000_000_000 : index + 1),
    );
    const jobs = await deliverTogether(harness, events);

    expect(await Promise.all(jobs.map((job) => job.getState()))).toEqual(
      events.map((_, index) => (index === 4 ? "failed" : "completed")),
    );
    // One batch of 10, split (its events then applied one at a time): the failure cost nobody
    // else's commit.
    expect(await batchesSeen(harness)).toEqual({ batches: 1, events: 10, split: 1 });
    const participants = await harness.db
      .selectFrom("queue_participants")
      .select(["consumer_id", "position"])
      .orderBy("position")
      .execute();
    expect(participants).toEqual(
      events
        .map((_, index) => ({ consumer_id: `con_batch_${String(index)}`, position: index + 1 }))
        .filter((_, index) => index !== 4),
    );
    const rows = await harness.db
      .selectFrom("webhook_events")
      .select(["event_id", "status", "attempts"])
      .execute();
    expect(rows.filter((row) => row.status === "completed")).toHaveLength(9);
    expect(rows.find((row) => row.event_id === events[4]?.id)).toMatchObject({
      status: "dead",
      attempts: 1,
    });
    const letters = await harness.db
      .selectFrom("webhook_dead_letters")
      .select("event_id")
      .execute();
    expect(letters).toEqual([{ event_id: events[4]?.id }]);
    const analytics = await harness.db.selectFrom("analytics_events").select("event_id").execute();
    expect(analytics).toHaveLength(9);
  });

  it('10 admissions with known emails in one batch → 10 "You\'re in" mails, each sent once, all rows `sent`', async () => {
    const harness = await batchingWorker(10);
    const consumers = Array.from({ length: 10 }, (_, index) => `con_mail_${String(index)}`);
    await harness.db
      .insertInto("consumers")
      .values(consumers.map((id) => ({ id, email: `${id}@example.test` })))
      .execute();
    const events = consumers.map((consumerId) =>
      sampleEvent("queue.consumer_admitted", {
        consumerId,
        experienceId: "exp_mail",
        expiresAt: inMinutes(10),
      }),
    );
    await deliverTogether(harness, events);

    expect(harness.smtp.mails.flatMap((mail) => mail.to).sort()).toEqual(
      consumers.map((id) => `${id}@example.test`).sort(),
    );
    const outbox = await harness.db.selectFrom("email_outbox").select("status").execute();
    expect(outbox).toEqual(consumers.map(() => ({ status: "sent" })));
    expect(await batchesSeen(harness)).toEqual({ batches: 1, events: 10, split: 0 });
  });

  it("1 admission under its own job id and a second job id (a replay) in one batch → applied once, 1 mail, counted once in emails_total", async () => {
    const harness = await batchingWorker(2);
    await harness.db
      .insertInto("consumers")
      .values({ id: "con_twice", email: "twice@example.test" })
      .execute();
    const event = sampleEvent("queue.consumer_admitted", {
      consumerId: "con_twice",
      experienceId: "exp_twice",
      expiresAt: inMinutes(10),
    });
    const queue = harness.producer.queues.get(familyQueueNames.queue);
    if (queue === undefined) throw new Error("no queue");
    const [original] = await Promise.all([
      harness.deliver(event),
      queue.add(event.type, event, { jobId: "replay-of-twice" }),
    ]);
    const replay = await harness.settled("replay-of-twice");

    expect([await original.getState(), await replay.getState()]).toEqual([
      "completed",
      "completed",
    ]);
    expect(harness.smtp.mails.flatMap((mail) => mail.to)).toEqual(["twice@example.test"]);
    const sent = await harness.worker.metrics.emails.get();
    expect(sent.values.filter((sample) => sample.labels.outcome === "sent")).toMatchObject([
      { value: 1 },
    ]);
    expect(await batchesSeen(harness)).toEqual({ batches: 1, events: 2, split: 0 });
  });

  // Each pair in both delivery orders and both orders in time: 8 batches of 2, each applying
  // both events of one admission in one transaction.
  const pairs = [
    { end: "queue.admission_completed" as const, status: "completed", reservation: "converted" },
    { end: "queue.admission_expired" as const, status: "expired", reservation: "released" },
  ];
  for (const { end, status, reservation } of pairs) {
    it(`admitted and ${end.slice(6)} of one admission in one batch, 2 delivery orders × 2 time orders → 4 identical \`${status}\` rows, reservation ${reservation}, 0 mails`, async () => {
      const harness = await batchingWorker(2);
      const now = Math.floor(Date.now() / 1000);
      // One set of instants for every variant, so the rows can be compared.
      const facts = {
        experienceId: "exp_pair",
        admittedAt: inMinutes(0),
        expiresAt: inMinutes(10),
        ended:
          end === "queue.admission_completed"
            ? { completedAt: inMinutes(1) }
            : { expiredAt: inMinutes(9) },
      };
      const rows: unknown[] = [];
      for (const [variant, reversed] of [false, true, false, true].entries()) {
        const consumerId = `con_pair_${String(variant)}`;
        await harness.db
          .insertInto("consumers")
          .values({ id: consumerId, email: `${consumerId}@example.test` })
          .execute();
        await harness.db
          .insertInto("reservations")
          .values({ experience_id: "exp_pair", consumer_id: consumerId })
          .execute();
        const timeOrder = variant < 2 ? [now, now + 1] : [now + 1, now];
        const data = { consumerId, experienceId: facts.experienceId };
        const pair = [
          sampleEvent(
            "queue.consumer_admitted",
            { ...data, admittedAt: facts.admittedAt, expiresAt: facts.expiresAt },
            { created: timeOrder[0] },
          ),
          sampleEvent(end, { ...data, ...facts.ended }, { created: timeOrder[1] }),
        ];
        const jobs = await deliverTogether(harness, reversed ? pair.reverse() : pair);
        expect(await Promise.all(jobs.map((job) => job.getState()))).toEqual([
          "completed",
          "completed",
        ]);
        const { consumer_id: _id, ...admission } = await harness.db
          .selectFrom("admissions")
          .selectAll()
          .where("consumer_id", "=", consumerId)
          .executeTakeFirstOrThrow();
        rows.push(admission);
        const held = await harness.db
          .selectFrom("reservations")
          .select("status")
          .where("consumer_id", "=", consumerId)
          .executeTakeFirstOrThrow();
        expect(held.status).toBe(reservation);
      }
      expect(await batchesSeen(harness)).toEqual({ batches: 4, events: 8, split: 0 });
      expect(rows[0]).toMatchObject({ status });
      for (const row of rows.slice(1)) expect(row).toEqual(rows[0]);
      const outbox = await harness.db.selectFrom("email_outbox").select("status").execute();
      expect(outbox.filter((mail) => mail.status !== "cancelled")).toEqual([]);
      expect(harness.smtp.mails).toEqual([]);
    });
  }
});
