import type { EventType } from "@fanfare-relay/events/catalogue";
import type { Envelope } from "@fanfare-relay/events/envelope";
import {
  createWorkerHarness,
  inMinutes,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawHandlers } from "../src/handlers.ts";
import {
  entryCreated,
  knownConsumer,
  mailsTo,
  prizeClaimed,
  prizeExpired,
  processOptions,
  winnersSelected,
} from "./support.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("draw", drawHandlers);
  await knownConsumer(h, "con_dup", "dup@example.com");
});
afterAll(async () => {
  await h.close();
});

const copies = 20;

const samples: Record<Extract<EventType, `draw.${string}`>, (drawId: string) => Envelope> = {
  "draw.entry_created": (drawId) => entryCreated(drawId, "con_dup", 3, inMinutes(-30)),
  "draw.winners_selected": (drawId) =>
    winnersSelected(drawId, [
      { consumerId: "con_dup", position: 1, claimToken: "clm_dup", claimDeadline: inMinutes(60) },
    ]),
  "draw.prize_claimed": (drawId) =>
    prizeClaimed(drawId, "con_dup", {
      claimToken: "clm_dup",
      orderId: "ord_dup",
      claimedAt: inMinutes(-1),
    }),
  "draw.prize_expired": (drawId) => prizeExpired(drawId, "con_dup", inMinutes(-1)),
};

describe("guarantee: one draw event processed concurrently applies once", () => {
  it.each(Object.entries(samples))("%s applies once", async (type, sample) => {
    const drawId = `draw_dup_${type.replace("draw.", "")}`;
    const envelope = sample(drawId);
    const outcomes = await Promise.all(
      Array.from({ length: copies }, () =>
        processEvent(processOptions(h), parseFamilyEvent("draw", envelope)),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(copies - 1);

    const analytics = await h.db
      .selectFrom("analytics_events")
      .select("name")
      .where("event_id", "=", envelope.id)
      .execute();
    expect(analytics).toHaveLength(1);
    const table = type === "draw.entry_created" ? "draw_entries" : "draw_winners";
    const rows = await h.db
      .selectFrom(table)
      .select("draw_id")
      .where("draw_id", "=", drawId)
      .execute();
    expect(rows).toHaveLength(1);
    const emails = await h.db
      .selectFrom("email_outbox")
      .select("email_key")
      .where("email_key", "=", `draw-winner:${drawId}:con_dup`)
      .execute();
    expect(emails).toHaveLength(type === "draw.winners_selected" ? 1 : 0);
  });
});

describe("guarantee: one draw event delivered concurrently is one job", () => {
  it("becomes one job that sends one email", async () => {
    const envelope = samples["draw.winners_selected"]("draw_dup_enqueue");
    const results = await Promise.all(
      Array.from({ length: copies }, () => h.producer.enqueue(envelope)),
    );
    const jobIds = new Set(results.map((result) => result.jobId));
    expect(jobIds.size).toBe(1);
    const [jobId] = [...jobIds];
    const job = await h.settled(jobId ?? "");
    expect(await job.getState()).toBe("completed");

    const outbox = await h.db
      .selectFrom("email_outbox")
      .select("status")
      .where("email_key", "=", "draw-winner:draw_dup_enqueue:con_dup")
      .execute();
    expect(outbox).toEqual([{ status: "sent" }]);
    expect(mailsTo(h, "dup@example.com")).toHaveLength(1);
  });
});
