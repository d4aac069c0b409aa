import type { Envelope } from "@fanfare-relay/events/envelope";
import {
  createWorkerHarness,
  inMinutes,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawHandlers } from "../src/handlers.ts";
import {
  entryCreated,
  experienceId,
  knownConsumer,
  mailsTo,
  prizeClaimed,
  prizeExpired,
  winnersSelected,
} from "./support.ts";
import { permutations } from "@fanfare-relay/testing/permutations";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("draw", drawHandlers);
});
afterAll(async () => {
  await h.close();
});

describe("a winner's lifecycle in every order", () => {
  type Step = "selected" | "claimed" | "expired";
  const steps: Step[] = ["selected", "claimed", "expired"];
  // One set of facts for every permutation, so the rows can be compared.
  const claimDeadline = inMinutes(60);
  const claimedAt = inMinutes(1);
  const expiresAt = inMinutes(61);

  it("ends with the same claimed row and never mails a superseded win", async () => {
    const orders = permutations(steps);
    expect(orders).toHaveLength(6);
    const finals: unknown[] = [];
    for (const [index, order] of orders.entries()) {
      const drawId = `draw_order_${String(index)}`;
      const consumerId = `con_order_${String(index)}`;
      const address = `order${String(index)}@example.com`;
      await knownConsumer(h, consumerId, address);
      const events: Record<Step, Envelope> = {
        selected: winnersSelected(drawId, [
          { consumerId, position: 1, claimToken: "clm_order", claimDeadline },
        ]),
        claimed: prizeClaimed(drawId, consumerId, {
          claimToken: "clm_order",
          orderId: "ord_order",
          claimedAt,
        }),
        expired: prizeExpired(drawId, consumerId, expiresAt),
      };
      for (const step of order) {
        const job = await h.deliver(events[step]);
        expect(await job.getState()).toBe("completed");
      }

      const { draw_id, consumer_id, ...row } = await h.db
        .selectFrom("draw_winners")
        .selectAll()
        .where("draw_id", "=", drawId)
        .executeTakeFirstOrThrow();
      expect([draw_id, consumer_id]).toEqual([drawId, consumerId]);
      finals.push(row);
      // The win is announced only while it is still open, i.e. when the selection came first.
      expect(mailsTo(h, address), order.join(" → ")).toHaveLength(order[0] === "selected" ? 1 : 0);
    }

    for (const row of finals) expect(row).toEqual(finals[0]);
    expect(finals[0]).toEqual({
      experience_id: experienceId,
      position: 1,
      claim_token: "clm_order",
      claim_deadline: new Date(claimDeadline),
      status: "claimed",
      order_id: "ord_order",
      claimed_at: new Date(claimedAt),
      expired_at: new Date(expiresAt),
    });
    const pending = await h.db
      .selectFrom("email_outbox")
      .select("email_key")
      .where("status", "=", "pending")
      .execute();
    expect(pending).toEqual([]);
  });
});

describe("an entry reported twice in every order", () => {
  it("keeps the lowest entry number and the earliest instant", async () => {
    const orders = permutations(["first", "second"] as const);
    const finals: unknown[] = [];
    for (const [index, order] of orders.entries()) {
      const drawId = `draw_entry_${String(index)}`;
      // The lower number comes with the later instant: each column merges on its own.
      const events = {
        first: entryCreated(drawId, "con_entry", 17, "2025-11-26T10:03:20.000Z"),
        second: entryCreated(drawId, "con_entry", 5, "2025-11-26T10:04:00.000Z"),
      };
      for (const step of order) await h.deliver(events[step]);
      const { draw_id, ...row } = await h.db
        .selectFrom("draw_entries")
        .selectAll()
        .where("draw_id", "=", drawId)
        .executeTakeFirstOrThrow();
      expect(draw_id).toBe(drawId);
      finals.push(row);
    }
    for (const row of finals) expect(row).toEqual(finals[0]);
    expect(finals[0]).toEqual({
      consumer_id: "con_entry",
      experience_id: experienceId,
      entry_number: 5,
      created_at: new Date("2025-11-26T10:03:20.000Z"),
    });
  });
});
