import type { Envelope } from "@fanfare-relay/events/envelope";
import { consumerHandlers } from "@fanfare-relay/worker-consumer/handlers";
import { deliverEventEmails } from "@fanfare-relay/worker/email-outbox";
import { createMailer, type Mailer } from "@fanfare-relay/worker/mailer";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import {
  createWorkerHarness,
  inMinutes,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { holdBeforeCommit, transactionRendezvous } from "@fanfare-relay/worker/testing/rendezvous";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawHandlers } from "../src/handlers.ts";
import {
  entryCreated,
  experienceId,
  mailsTo,
  prizeClaimed,
  prizeExpired,
  winnersSelected,
} from "./support.ts";
import { permutations } from "@fanfare-relay/testing/permutations";

let h: WorkerHarness;
let mailer: Mailer;
beforeAll(async () => {
  // The consumer worker runs next to the draw worker, on the same database: the winner's email
  // and the selection arrive on different queues, in any order.
  h = await createWorkerHarness(
    "draw",
    drawHandlers,
    {},
    { alongside: [{ family: "consumer", handlers: consumerHandlers }] },
  );
  mailer = createMailer({ smtpUrl: h.smtp.url, from: "Shop <no-reply@shop.test>" });
});
afterAll(async () => {
  mailer.close();
  await h.close();
});

const authenticated = (consumerId: string, email: string) =>
  sampleEvent("consumer.authenticated", {
    consumerId,
    email,
    authenticatedAt: "2025-11-26T09:40:05.000Z",
  });

describe("guarantee: a winner's lifecycle ends the same, and mails right, in every order", () => {
  type Step = "selected" | "claimed" | "expired" | "authenticated";
  const steps: Step[] = ["selected", "claimed", "expired", "authenticated"];
  // One set of facts for every permutation, so the rows can be compared.
  const claimDeadline = inMinutes(60);
  const claimedAt = inMinutes(1);
  const expiresAt = inMinutes(61);

  it("24 orders of selected, claimed, expired and the winner's sign-in → the same claimed row; 1 winner mail exactly when selection and email were both known before the claim or expiry", async () => {
    const orders = permutations(steps);
    expect(orders).toHaveLength(24);
    // Each order on a draw and consumer of its own; orders run side by side.
    const finals = await Promise.all(
      orders.map(async (order, index) => {
        const drawId = `draw_order_${String(index)}`;
        const consumerId = `con_order_${String(index)}`;
        const address = `order${String(index)}@example.com`;
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
          authenticated: authenticated(consumerId, address),
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
        // The win is announced only while it is still open: the selection and the email both
        // known before the claim and the expiry, whichever of the two came second.
        const end = Math.min(order.indexOf("claimed"), order.indexOf("expired"));
        const owed = order.indexOf("selected") < end && order.indexOf("authenticated") < end;
        expect(
          mailsTo(h, address).map((mail) => mail.subject),
          order.join(" → "),
        ).toEqual(owed ? ["You won the draw! Claim your prize"] : []);
        return row;
      }),
    );

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

describe("guarantee: an entry reported twice ends the same in every order", () => {
  it("6 orders of two entry reports and the consumer's sign-in → the lowest entry number, the earliest instant, no mail", async () => {
    const orders = permutations(["first", "second", "authenticated"] as const);
    const finals: unknown[] = [];
    for (const [index, order] of orders.entries()) {
      const drawId = `draw_entry_${String(index)}`;
      // The lower number comes with the later instant: each column merges on its own.
      const events = {
        first: entryCreated(drawId, "con_entry", 17, "2025-11-26T10:03:20.000Z"),
        second: entryCreated(drawId, "con_entry", 5, "2025-11-26T10:04:00.000Z"),
        authenticated: authenticated("con_entry", "entry@example.com"),
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
    // An entry is not a win: nothing is owed.
    expect(mailsTo(h, "entry@example.com")).toEqual([]);
  });
});

describe("fault: the winner's sign-in and the selection applied at the same moment by two workers", () => {
  it("10 pairs of concurrent transactions (sign-in ∥ selection of 3 winners), each holding its commit until both did their reads → exactly 1 winner mail to the signed-in winner", async () => {
    const common = { db: h.db, messageIdDomain: "shop.test", shopUrl: "https://shop.test" };
    for (let index = 0; index < 10; index++) {
      const drawId = `draw_race_${String(index)}`;
      const consumerId = `con_race_${String(index)}`;
      const address = `race${String(index)}@example.com`;
      const signIn = authenticated(consumerId, address);
      // The signed-in winner sorts between two others: the selection locks all three.
      const selection = winnersSelected(
        drawId,
        [`con_race_${String(index)}_z`, consumerId, `con_race_${String(index - 1)}_a`].map(
          (winnerId, position) => ({
            consumerId: winnerId,
            position: position + 1,
            claimToken: `clm_${winnerId}`,
            claimDeadline: inMinutes(60),
          }),
        ),
      );
      const { arrive } = transactionRendezvous(h.db, 2);
      await Promise.all([
        processEvent(
          { ...common, family: "consumer", handlers: holdBeforeCommit(consumerHandlers, arrive) },
          parseFamilyEvent("consumer", signIn),
        ),
        processEvent(
          { ...common, family: "draw", handlers: holdBeforeCommit(drawHandlers, arrive) },
          parseFamilyEvent("draw", selection),
        ),
      ]);
      for (const event of [signIn, selection]) {
        expect((await deliverEventEmails(h.db, mailer, event.id)).failed).toEqual([]);
      }
      const mails = mailsTo(h, address);
      expect(
        mails.map((mail) => mail.subject),
        drawId,
      ).toEqual(["You won the draw! Claim your prize"]);
      expect(mails[0]?.text).toContain(`token=clm_${consumerId}`);
    }
  });
});
