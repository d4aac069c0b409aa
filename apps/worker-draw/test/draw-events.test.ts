import {
  createWorkerHarness,
  inMinutes,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawHandlers } from "../src/handlers.ts";
import {
  analyticsOf,
  entryCreated,
  experienceId,
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
});
afterAll(async () => {
  await h.close();
});

const readable = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;

async function winnerRow(drawId: string, consumerId: string) {
  return h.db
    .selectFrom("draw_winners")
    .selectAll()
    .where("draw_id", "=", drawId)
    .where("consumer_id", "=", consumerId)
    .executeTakeFirstOrThrow();
}

async function outboxRow(key: string) {
  return h.db
    .selectFrom("email_outbox")
    .selectAll()
    .where("email_key", "=", key)
    .executeTakeFirstOrThrow();
}

describe("draw.entry_created", () => {
  it("stores the entry and records draw_entered", async () => {
    const event = entryCreated("draw_e1", "con_e1", 17, "2025-11-26T10:03:20.000Z");
    const job = await h.deliver(event);
    expect(await job.getState()).toBe("completed");

    const entry = await h.db
      .selectFrom("draw_entries")
      .selectAll()
      .where("draw_id", "=", "draw_e1")
      .executeTakeFirstOrThrow();
    expect(entry).toEqual({
      draw_id: "draw_e1",
      consumer_id: "con_e1",
      experience_id: experienceId,
      entry_number: 17,
      created_at: new Date("2025-11-26T10:03:20.000Z"),
    });
    expect(await analyticsOf(h, event.id)).toEqual([
      {
        name: "draw_entered",
        properties: { drawId: "draw_e1", experienceId, consumerId: "con_e1", entryNumber: 17 },
      },
    ]);
  });
});

describe("draw.winners_selected", () => {
  it("stores every winner and mails known ones with a live deadline the claim link", async () => {
    await knownConsumer(h, "con_w1", "w1@example.com");
    await knownConsumer(h, "con_w2", "w2@example.com");
    const deadline = inMinutes(60);
    const event = winnersSelected(
      "draw_w1",
      [
        { consumerId: "con_w1", position: 1, claimToken: "clm_w1", claimDeadline: deadline },
        // Known, but the deadline has passed (a very late delivery): a dead link, no mail.
        { consumerId: "con_w2", position: 2, claimToken: "clm_w2", claimDeadline: inMinutes(-5) },
        // No email known: no mail, and the job still completes.
        { consumerId: "con_w3", position: 3, claimToken: "clm_w3", claimDeadline: deadline },
      ],
      350,
    );
    const job = await h.deliver(event);
    expect(await job.getState()).toBe("completed");

    expect(await winnerRow("draw_w1", "con_w1")).toEqual({
      draw_id: "draw_w1",
      consumer_id: "con_w1",
      experience_id: experienceId,
      position: 1,
      claim_token: "clm_w1",
      claim_deadline: new Date(deadline),
      status: "pending_claim",
      order_id: null,
      claimed_at: null,
      expired_at: null,
    });
    expect(await winnerRow("draw_w1", "con_w2")).toMatchObject({
      position: 2,
      claim_token: "clm_w2",
      status: "pending_claim",
    });
    expect(await winnerRow("draw_w1", "con_w3")).toMatchObject({
      position: 3,
      claim_token: "clm_w3",
      status: "pending_claim",
    });

    // The job settles after its mails went out, so everything it sends is here already.
    const [mail] = mailsTo(h, "w1@example.com");
    expect(mailsTo(h, "w1@example.com")).toHaveLength(1);
    expect(mailsTo(h, "w2@example.com")).toHaveLength(0);
    const link = "https://shop.test/claim?draw=draw_w1&token=clm_w1";
    expect(mail?.to).toEqual(["w1@example.com"]);
    expect(mail?.subject).toBe("You won the draw! Claim your prize");
    expect(mail?.text).toContain(link);
    expect(mail?.html).toContain(link.replace("&", "&amp;"));
    expect(mail?.text).toContain(readable(deadline));
    expect(mail?.html).toContain(readable(deadline));
    expect(await outboxRow("draw-winner:draw_w1:con_w1")).toMatchObject({
      template: "draw-winner",
      status: "sent",
    });

    expect(await analyticsOf(h, event.id)).toEqual([
      {
        name: "draw_completed",
        properties: { drawId: "draw_w1", winnerCount: 3, totalEntries: 350 },
      },
    ]);
  });
});

describe("draw.prize_claimed", () => {
  it("marks the winner claimed with the order and withdraws the unsent winner mail", async () => {
    await knownConsumer(h, "con_c1", "c1@example.com");
    const winner = { consumerId: "con_c1", position: 1, claimToken: "clm_c1" };
    // Applied but not delivered: the mail stays pending, as during an SMTP outage.
    const selection = winnersSelected("draw_c1", [{ ...winner, claimDeadline: inMinutes(60) }]);
    await processEvent(processOptions(h), parseFamilyEvent("draw", selection));
    expect(await outboxRow("draw-winner:draw_c1:con_c1")).toMatchObject({ status: "pending" });

    const claimedAt = inMinutes(-1);
    const claim = prizeClaimed("draw_c1", "con_c1", {
      claimToken: "clm_c1",
      orderId: "ord_c1",
      claimedAt,
    });
    const job = await h.deliver(claim);
    expect(await job.getState()).toBe("completed");

    expect(await winnerRow("draw_c1", "con_c1")).toMatchObject({
      position: 1,
      claim_token: "clm_c1",
      status: "claimed",
      order_id: "ord_c1",
      claimed_at: new Date(claimedAt),
      expired_at: null,
    });
    expect(await outboxRow("draw-winner:draw_c1:con_c1")).toMatchObject({ status: "cancelled" });
    expect(mailsTo(h, "c1@example.com")).toHaveLength(0);
    expect(await analyticsOf(h, claim.id)).toEqual([
      {
        name: "prize_claimed",
        properties: { drawId: "draw_c1", experienceId, consumerId: "con_c1", orderId: "ord_c1" },
      },
    ]);
  });

  it("creates the winner row when the claim arrives before the selection", async () => {
    const claimedAt = inMinutes(-2);
    const claim = prizeClaimed("draw_c2", "con_c2", {
      claimToken: "clm_c2",
      orderId: "ord_c2",
      claimedAt,
    });
    await h.deliver(claim);
    expect(await winnerRow("draw_c2", "con_c2")).toEqual({
      draw_id: "draw_c2",
      consumer_id: "con_c2",
      experience_id: experienceId,
      position: null,
      claim_token: "clm_c2",
      claim_deadline: null,
      status: "claimed",
      order_id: "ord_c2",
      claimed_at: new Date(claimedAt),
      expired_at: null,
    });
  });
});

describe("draw.prize_expired", () => {
  it("marks the winner expired and withdraws the unsent winner mail", async () => {
    await knownConsumer(h, "con_x1", "x1@example.com");
    const deadline = inMinutes(30);
    const selection = winnersSelected("draw_x1", [
      { consumerId: "con_x1", position: 2, claimToken: "clm_x1", claimDeadline: deadline },
    ]);
    await processEvent(processOptions(h), parseFamilyEvent("draw", selection));

    const expiry = prizeExpired("draw_x1", "con_x1", deadline);
    const job = await h.deliver(expiry);
    expect(await job.getState()).toBe("completed");

    expect(await winnerRow("draw_x1", "con_x1")).toMatchObject({
      position: 2,
      claim_token: "clm_x1",
      status: "expired",
      order_id: null,
      claimed_at: null,
      expired_at: new Date(deadline),
    });
    expect(await outboxRow("draw-winner:draw_x1:con_x1")).toMatchObject({ status: "cancelled" });
    expect(mailsTo(h, "x1@example.com")).toHaveLength(0);
    expect(await analyticsOf(h, expiry.id)).toEqual([
      {
        name: "prize_expired",
        properties: { drawId: "draw_x1", experienceId, consumerId: "con_x1" },
      },
    ]);
  });

  it("leaves a claimed prize claimed", async () => {
    const claimedAt = inMinutes(-10);
    const expiresAt = inMinutes(-1);
    await h.deliver(
      prizeClaimed("draw_x2", "con_x2", { claimToken: "clm_x2", orderId: "ord_x2", claimedAt }),
    );
    await h.deliver(prizeExpired("draw_x2", "con_x2", expiresAt));
    expect(await winnerRow("draw_x2", "con_x2")).toMatchObject({
      status: "claimed",
      order_id: "ord_x2",
      claimed_at: new Date(claimedAt),
      expired_at: new Date(expiresAt),
    });
  });
});
