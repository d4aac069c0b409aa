import type { Envelope } from "@fanfare-relay/events/envelope";
import {
  createWorkerHarness,
  inMinutes,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { batchesSeen, deliverTogether } from "@fanfare-relay/worker/testing/batches";
import { afterEach, describe, expect, it } from "vitest";
import { consumerHandlers } from "../src/handlers.ts";
import { at, authenticated, consumerFacts, linked } from "./consumer-fixtures.ts";

const harnesses: WorkerHarness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

/**
 * A worker whose batches hold exactly `size` events: each batch waits (up to 10 s) to fill.
 * Size 1 applies one event at a time, each in its own transaction.
 */
async function worker(size: number): Promise<WorkerHarness> {
  const harness = await createWorkerHarness("consumer", consumerHandlers, {
    batchSize: size,
    batchWaitMs: size === 1 ? 0 : 10_000,
    concurrency: size,
  });
  harnesses.push(harness);
  return harness;
}

/** What the queue worker leaves for an admitted consumer: a "You're in!" mail is owed them. */
async function seedOpenAdmission(harness: WorkerHarness, consumerId: string) {
  await harness.db
    .insertInto("admissions")
    .values({
      experience_id: "exp_batch",
      consumer_id: consumerId,
      token: `adm_${consumerId}`,
      expires_at: inMinutes(10),
      status: "active",
    })
    .execute();
}

/** Each outbox row: its key, address, state and the event it was queued for. */
async function outbox(harness: WorkerHarness) {
  return harness.db
    .selectFrom("email_outbox")
    .select(["email_key", "to_address", "status", "event_id"])
    .orderBy("email_key")
    .execute();
}

const withCreated = (event: Envelope, created: number): Envelope => ({ ...event, created });

describe("fault: a poison consumer event in the middle of a batch", () => {
  it("10 sign-ins in one batch, each owed a mail, the 5th unstorable (authenticatedAt 0000-01-01: a valid ISO instant, out of PostgreSQL's range) → the batch is split, 9 applied once with 9 mails sent once, the 5th fails alone: 1 `dead` row, 1 dead letter", async () => {
    const harness = await worker(10);
    const consumers = Array.from({ length: 10 }, (_, index) => `con_poison_${String(index)}`);
    for (const consumerId of consumers) await seedOpenAdmission(harness, consumerId);
    const events = consumers.map((consumerId, index) =>
      authenticated(consumerId, {
        at: index === 4 ? "0000-01-01T00:00:00Z" : at(index),
        email: `${consumerId}@example.test`,
        method: "email_otp",
      }),
    );
    const jobs = await deliverTogether(harness, events);

    expect(await Promise.all(jobs.map((job) => job.getState()))).toEqual(
      events.map((_, index) => (index === 4 ? "failed" : "completed")),
    );
    expect(await batchesSeen(harness)).toEqual({ batches: 1, events: 10, split: 1 });
    const healthy = consumers.filter((_, index) => index !== 4);
    const rows = await harness.db
      .selectFrom("consumers")
      .select(["id", "email"])
      .orderBy("id")
      .execute();
    expect(rows).toEqual(healthy.map((id) => ({ id, email: `${id}@example.test` })));
    const claims = await harness.db
      .selectFrom("webhook_events")
      .select(["event_id", "status", "attempts"])
      .execute();
    expect(claims.filter((row) => row.status === "completed")).toHaveLength(9);
    expect(claims.find((row) => row.event_id === events[4]?.id)).toMatchObject({
      status: "dead",
      attempts: 1,
    });
    const letters = await harness.db
      .selectFrom("webhook_dead_letters")
      .select("event_id")
      .execute();
    expect(letters).toEqual([{ event_id: events[4]?.id }]);
    expect(
      await harness.db.selectFrom("analytics_events").select("event_id").execute(),
    ).toHaveLength(9);
    // Each neighbour's owed mail: one row, attributed to its own event, sent once.
    const mails = await outbox(harness);
    expect(
      mails.map(({ to_address, status, event_id }) => ({ to_address, status, event_id })),
    ).toEqual(
      healthy.map((id) => ({
        to_address: `${id}@example.test`,
        status: "sent",
        event_id: events[consumers.indexOf(id)]?.id,
      })),
    );
    expect(harness.smtp.mails.flatMap((mail) => mail.to).sort()).toEqual(
      healthy.map((id) => `${id}@example.test`).sort(),
    );
  });
});

describe("guarantee: one consumer's events in one batch apply as one at a time would", () => {
  it("sign-in and link of one consumer in one batch, 2 delivery orders × 2 time orders → 4 identical rows, 1 mail each, to the sign-in's email (sign-ins apply before links)", async () => {
    const harness = await batchingHarness();
    const now = Math.floor(Date.now() / 1000);
    const rows: unknown[] = [];
    for (const [variant, reversed] of [false, true, false, true].entries()) {
      const consumerId = `con_pair_${String(variant)}`;
      await seedOpenAdmission(harness, consumerId);
      const timeOrder = variant < 2 ? [now, now + 1] : [now + 1, now];
      const pair = [
        withCreated(
          authenticated(consumerId, { at: at(10), email: "signin@example.test", method: "otp" }),
          timeOrder[0] ?? now,
        ),
        withCreated(
          linked(consumerId, {
            at: at(20),
            externalCustomerId: "shop_cus_pair",
            email: "link@example.test",
          }),
          timeOrder[1] ?? now,
        ),
      ];
      const jobs = await deliverTogether(harness, reversed ? [...pair].reverse() : pair);
      expect(await Promise.all(jobs.map((job) => job.getState()))).toEqual([
        "completed",
        "completed",
      ]);
      rows.push(await consumerFacts(harness.db, consumerId));
    }
    expect(await batchesSeen(harness)).toEqual({ batches: 4, events: 8, split: 0 });
    expect(rows[0]).toEqual({
      email: "link@example.test",
      email_observed_at: new Date(at(20)),
      auth_method: "otp",
      authenticated_at: new Date(at(10)),
      external_customer_id: "shop_cus_pair",
      linked_at: new Date(at(20)),
    });
    for (const row of rows.slice(1)) expect(row).toEqual(rows[0]);
    const mails = await outbox(harness);
    expect(mails.map(({ to_address, status }) => ({ to_address, status }))).toEqual(
      rows.map(() => ({ to_address: "signin@example.test", status: "sent" })),
    );
    expect(harness.smtp.mails).toHaveLength(4);
  });

  // Each case: the email stored before the batch (if any) and two sign-ins in time order.
  const changes = [
    {
      name: "A then B, none known before",
      before: null,
      events: [
        { at: at(10), email: "a@example.test" },
        { at: at(20), email: "b@example.test" },
      ],
      stored: "b@example.test",
      mailTo: "a@example.test",
    },
    {
      name: "B, then an older A, none known before",
      before: null,
      events: [
        { at: at(20), email: "b@example.test" },
        { at: at(10), email: "a@example.test" },
      ],
      stored: "b@example.test",
      mailTo: "b@example.test",
    },
    {
      name: "A known, then B, then C",
      before: { email: "a@example.test", at: at(5) },
      events: [
        { at: at(10), email: "b@example.test" },
        { at: at(20), email: "c@example.test" },
      ],
      stored: "c@example.test",
      mailTo: "b@example.test",
    },
  ];

  it(`an email changed twice within one batch (${changes.map((change) => change.name).join("; ")}), each in both delivery orders → the owed mail goes once to the address one-at-a-time application gives it, attributed to the same event; the same rows`, async () => {
    const batched = await batchingHarness();
    const single = await worker(1);
    const now = Math.floor(Date.now() / 1000);
    const cases = changes.flatMap((change, index) =>
      [false, true].map((reversed) => {
        const consumerId = `con_change_${String(index)}_${reversed ? "r" : "f"}`;
        const events = change.events.map((facts, position) =>
          withCreated(authenticated(consumerId, { ...facts, method: "email_otp" }), now + position),
        );
        return { ...change, consumerId, events, reversed };
      }),
    );
    for (const harness of [batched, single]) {
      for (const { consumerId, before } of cases) {
        await seedOpenAdmission(harness, consumerId);
        if (before === null) continue;
        await harness.db
          .insertInto("consumers")
          .values({ id: consumerId, email: before.email, email_observed_at: before.at })
          .execute();
      }
    }
    for (const { events, reversed } of cases) {
      // One batch of both; one at a time, in time order, each in its own transaction.
      await deliverTogether(batched, reversed ? [...events].reverse() : events);
      for (const event of events) {
        expect(await (await single.deliver(event)).getState()).toBe("completed");
      }
    }
    expect(await batchesSeen(batched)).toEqual({ batches: 6, events: 12, split: 0 });

    const batchedMails = await outbox(batched);
    expect(batchedMails).toEqual(await outbox(single));
    expect(
      batchedMails.map(({ to_address, status, event_id }) => ({ to_address, status, event_id })),
    ).toEqual(
      [...cases]
        .sort((a, b) => (a.consumerId < b.consumerId ? -1 : 1))
        .map(({ events, mailTo }) => ({
          to_address: mailTo,
          status: "sent",
          // The first event that changed the email; in these cases always the first in time.
          event_id: events[0]?.id,
        })),
    );
    for (const { consumerId, stored } of cases) {
      const row = await consumerFacts(batched.db, consumerId);
      expect(row.email).toBe(stored);
      expect(row).toEqual(await consumerFacts(single.db, consumerId));
    }
    expect(batched.smtp.mails.map((mail) => mail.to).sort()).toEqual(
      single.smtp.mails.map((mail) => mail.to).sort(),
    );
  });
});

/** A worker batching two events at a time. */
const batchingHarness = () => worker(2);
