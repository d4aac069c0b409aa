import type { Envelope } from "@fanfare-relay/events/envelope";
import {
  createWorkerHarness,
  inMinutes,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import {
  batchesSeen,
  deliverTogether,
  type DeliveredJob,
} from "@fanfare-relay/worker/testing/batches";
import { afterEach, describe, expect, it } from "vitest";
import { drawHandlers } from "../src/handlers.ts";
import {
  entryCreated,
  knownConsumer,
  prizeClaimed,
  prizeExpired,
  winnersSelected,
} from "./support.ts";

const harnesses: WorkerHarness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

/**
 * A worker whose batches hold exactly `size` events: each batch waits (up to 10 s) to fill.
 * Size 1 applies one event at a time, each in its own transaction.
 */
async function worker(size: number): Promise<WorkerHarness> {
  const harness = await createWorkerHarness("draw", drawHandlers, {
    batchSize: size,
    batchWaitMs: size === 1 ? 0 : 10_000,
    concurrency: size,
  });
  harnesses.push(harness);
  return harness;
}

/** Each outbox row: its key, address, state and the event it was queued for. */
async function outbox(harness: WorkerHarness) {
  return harness.db
    .selectFrom("email_outbox")
    .select(["email_key", "to_address", "status", "event_id"])
    .orderBy("email_key")
    .execute();
}

async function winnerRows(harness: WorkerHarness) {
  return harness.db
    .selectFrom("draw_winners")
    .selectAll()
    .orderBy("draw_id")
    .orderBy("consumer_id")
    .execute();
}

async function entryRows(harness: WorkerHarness) {
  return harness.db
    .selectFrom("draw_entries")
    .selectAll()
    .orderBy("draw_id")
    .orderBy("consumer_id")
    .execute();
}

/** Where each job ended, and the dead letters left. */
async function fates(harness: WorkerHarness, jobs: DeliveredJob[]) {
  return {
    states: await Promise.all(jobs.map((job) => job.getState())),
    letters: await harness.db.selectFrom("webhook_dead_letters").select("event_id").execute(),
  };
}

const withCreated = (event: Envelope, created: number): Envelope => ({ ...event, created });

/** A valid ISO instant PostgreSQL cannot store (there is no year 0): the statement fails. */
const unstorable = "0000-01-01T00:00:00Z";

describe("fault: a poison draw event in the middle of a batch", () => {
  it("10 entries in one batch, the 5th unstorable (createdAt 0000-01-01) → the batch is split, 9 entries stored with their analytics, the 5th fails alone: 1 `dead` row, 1 dead letter", async () => {
    const harness = await worker(10);
    const events = Array.from({ length: 10 }, (_, index) =>
      entryCreated(
        "draw_poison",
        `con_poison_${String(index)}`,
        index + 1,
        index === 4 ? unstorable : inMinutes(-10 + index),
      ),
    );
    const jobs = await deliverTogether(harness, events);

    expect(await fates(harness, jobs)).toEqual({
      states: events.map((_, index) => (index === 4 ? "failed" : "completed")),
      letters: [{ event_id: events[4]?.id }],
    });
    expect(await batchesSeen(harness)).toEqual({ batches: 1, events: 10, split: 1 });
    const entries = await entryRows(harness);
    expect(entries.map((row) => [row.consumer_id, row.entry_number])).toEqual(
      events
        .map((_, index) => [`con_poison_${String(index)}`, index + 1])
        .filter((_, index) => index !== 4),
    );
    const claims = await harness.db
      .selectFrom("webhook_events")
      .select(["event_id", "status", "attempts"])
      .execute();
    expect(claims.filter((row) => row.status === "completed")).toHaveLength(9);
    expect(claims.find((row) => row.event_id === events[4]?.id)).toMatchObject({
      status: "dead",
      attempts: 1,
    });
    expect(
      await harness.db.selectFrom("analytics_events").select("event_id").execute(),
    ).toHaveLength(9);
  });

  it("6 selections of 6 draws in one batch, each winner's email known, the 3rd's claim deadline unstorable → the batch is split, 5 winners stored and mailed once each (attributed to their own selection), the 3rd fails alone with no mail", async () => {
    const harness = await worker(6);
    const events = Array.from({ length: 6 }, (_, index) =>
      winnersSelected(`draw_poison_${String(index)}`, [
        {
          consumerId: `con_win_${String(index)}`,
          position: 1,
          claimToken: `clm_${String(index)}`,
          claimDeadline: index === 2 ? unstorable : inMinutes(60),
        },
      ]),
    );
    for (let index = 0; index < 6; index++) {
      await knownConsumer(harness, `con_win_${String(index)}`, `win${String(index)}@example.test`);
    }
    const jobs = await deliverTogether(harness, events);

    expect(await fates(harness, jobs)).toEqual({
      states: events.map((_, index) => (index === 2 ? "failed" : "completed")),
      letters: [{ event_id: events[2]?.id }],
    });
    expect(await batchesSeen(harness)).toEqual({ batches: 1, events: 6, split: 1 });
    const healthy = [0, 1, 3, 4, 5];
    expect((await winnerRows(harness)).map((row) => row.consumer_id)).toEqual(
      healthy.map((index) => `con_win_${String(index)}`),
    );
    expect(await outbox(harness)).toEqual(
      healthy.map((index) => ({
        email_key: `draw-winner:draw_poison_${String(index)}:con_win_${String(index)}`,
        to_address: `win${String(index)}@example.test`,
        status: "sent",
        event_id: events[index]?.id,
      })),
    );
    expect(harness.smtp.mails.flatMap((mail) => mail.to).sort()).toEqual(
      healthy.map((index) => `win${String(index)}@example.test`),
    );
  });
});

describe("guarantee: one entry's or one winner's events in one batch apply as one at a time would", () => {
  it("two reports of one entry in one batch, 2 delivery orders × 2 time orders → 4 identical rows: the lowest number, the earliest instant", async () => {
    const harness = await worker(2);
    const now = Math.floor(Date.now() / 1000);
    for (const [variant, reversed] of [false, true, false, true].entries()) {
      const timeOrder = variant < 2 ? [now, now + 1] : [now + 1, now];
      // The lower number comes with the later instant: each column merges on its own.
      const pair = [
        withCreated(
          entryCreated(`draw_pair_${String(variant)}`, "con_pair", 17, "2025-11-26T10:03:20.000Z"),
          timeOrder[0] ?? now,
        ),
        withCreated(
          entryCreated(`draw_pair_${String(variant)}`, "con_pair", 5, "2025-11-26T10:04:00.000Z"),
          timeOrder[1] ?? now,
        ),
      ];
      const jobs = await deliverTogether(harness, reversed ? [...pair].reverse() : pair);
      expect(await Promise.all(jobs.map((job) => job.getState()))).toEqual([
        "completed",
        "completed",
      ]);
    }
    expect(await batchesSeen(harness)).toEqual({ batches: 4, events: 8, split: 0 });
    const rows = await entryRows(harness);
    expect(rows.map(({ draw_id, ...row }) => row)).toEqual(
      rows.map(() => ({
        consumer_id: "con_pair",
        experience_id: "exp_draw_test",
        entry_number: 5,
        created_at: new Date("2025-11-26T10:03:20.000Z"),
      })),
    );
  });

  // Each case: two events of one winner (or one entry), in time order, on a draw of its own.
  const claimDeadline = inMinutes(60);
  const cases: { name: string; events: (drawId: string) => Envelope[] }[] = [
    {
      name: "two claims with different orders",
      events: (drawId) => [
        prizeClaimed(drawId, "con_case", {
          claimToken: "clm_first",
          orderId: "ord_first",
          claimedAt: inMinutes(-5),
        }),
        prizeClaimed(drawId, "con_case", {
          claimToken: "clm_second",
          orderId: "ord_second",
          claimedAt: inMinutes(-6),
        }),
      ],
    },
    {
      name: "a claim and an expiry",
      events: (drawId) => [
        prizeClaimed(drawId, "con_case", {
          claimToken: "clm_case",
          orderId: "ord_case",
          claimedAt: inMinutes(-5),
        }),
        prizeExpired(drawId, "con_case", inMinutes(-4)),
      ],
    },
    {
      name: "two selections naming the winner (a known email) at different positions and tokens",
      events: (drawId) => [
        winnersSelected(drawId, [
          { consumerId: "con_case", position: 2, claimToken: "clm_first", claimDeadline },
        ]),
        winnersSelected(drawId, [
          { consumerId: "con_case", position: 1, claimToken: "clm_second", claimDeadline },
          { consumerId: "con_other", position: 2, claimToken: "clm_other", claimDeadline },
        ]),
      ],
    },
    {
      name: "two entry reports",
      events: (drawId) => [
        entryCreated(drawId, "con_case", 9, "2025-11-26T10:05:00.000Z"),
        entryCreated(drawId, "con_case", 12, "2025-11-26T10:01:00.000Z"),
      ],
    },
  ];

  it(`${cases.map((entry) => entry.name).join("; ")}: each in one batch in both delivery orders → the rows, outbox and mails one-at-a-time application in time order leaves`, async () => {
    const batched = await worker(2);
    const single = await worker(1);
    for (const harness of [batched, single]) {
      await knownConsumer(harness, "con_case", "case@example.test");
      await knownConsumer(harness, "con_other", "other@example.test");
    }
    const now = Math.floor(Date.now() / 1000);
    const runs = cases.flatMap((entry, index) =>
      [false, true].map((reversed) => {
        const drawId = `draw_case_${String(index)}_${reversed ? "r" : "f"}`;
        const events = entry
          .events(drawId)
          .map((event, position) => withCreated(event, now + position));
        return { events, reversed };
      }),
    );
    for (const { events, reversed } of runs) {
      const jobs = await deliverTogether(batched, reversed ? [...events].reverse() : events);
      expect(await Promise.all(jobs.map((job) => job.getState()))).toEqual([
        "completed",
        "completed",
      ]);
      for (const event of events) {
        expect(await (await single.deliver(event)).getState()).toBe("completed");
      }
    }
    expect(await batchesSeen(batched)).toEqual({ batches: 8, events: 16, split: 0 });

    expect(await winnerRows(batched)).toEqual(await winnerRows(single));
    expect(await entryRows(batched)).toEqual(await entryRows(single));
    const batchedMails = await outbox(batched);
    expect(batchedMails).toEqual(await outbox(single));
    // The selections' runs: one mail per winner, with the first selection's token.
    expect(batchedMails.map(({ email_key, status }) => [email_key, status])).toEqual([
      ["draw-winner:draw_case_2_f:con_case", "sent"],
      ["draw-winner:draw_case_2_f:con_other", "sent"],
      ["draw-winner:draw_case_2_r:con_case", "sent"],
      ["draw-winner:draw_case_2_r:con_other", "sent"],
    ]);
    const texts = (harness: WorkerHarness) =>
      harness.smtp.mails
        .map((mail) => `${mail.to.join()} ${/token=(\w+)/.exec(mail.text ?? "")?.[1] ?? ""}`)
        .sort();
    expect(texts(batched)).toEqual(texts(single));
    expect(texts(batched)).toEqual([
      "case@example.test clm_first",
      "case@example.test clm_first",
      "other@example.test clm_other",
      "other@example.test clm_other",
    ]);
    // The merged rows themselves: the first claim's token and the later one's order; the later
    // selection's token and position.
    const row = (rows: Awaited<ReturnType<typeof winnerRows>>, drawId: string) =>
      rows.find((entry) => entry.draw_id === drawId && entry.consumer_id === "con_case");
    const rows = await winnerRows(batched);
    expect(row(rows, "draw_case_0_r")).toMatchObject({
      status: "claimed",
      claim_token: "clm_first",
      order_id: "ord_second",
    });
    expect(row(rows, "draw_case_1_r")).toMatchObject({ status: "claimed" });
    expect(row(rows, "draw_case_2_r")).toMatchObject({
      status: "pending_claim",
      position: 1,
      claim_token: "clm_second",
    });
    // 24 deliveries one after another: seconds on a loaded machine.
  }, 30_000);
});
