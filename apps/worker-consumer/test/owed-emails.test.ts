import {
  createWorkerHarness,
  inMinutes,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerHandlers } from "../src/handlers.ts";
import { at, authenticated, linked } from "./consumer-fixtures.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("consumer", consumerHandlers);
});
afterAll(async () => {
  await h.close();
});

/** What the other families' workers leave behind; each helper writes the rows one event would. */
const seed = {
  admission: (
    consumerId: string,
    experienceId: string,
    facts: { expiresAt: string; completedAt?: string; expiredAt?: string },
  ) =>
    h.db
      .insertInto("admissions")
      .values({
        experience_id: experienceId,
        consumer_id: consumerId,
        token: `adm_${experienceId}`,
        admitted_at: inMinutes(-1),
        expires_at: facts.expiresAt,
        completed_at: facts.completedAt ?? null,
        expired_at: facts.expiredAt ?? null,
        status:
          facts.completedAt === undefined
            ? facts.expiredAt === undefined
              ? "active"
              : "expired"
            : "completed",
      })
      .execute(),
  prize: (
    consumerId: string,
    drawId: string,
    facts: { claimDeadline: string; status?: "pending_claim" | "claimed" | "expired" },
  ) =>
    h.db
      .insertInto("draw_winners")
      .values({
        draw_id: drawId,
        consumer_id: consumerId,
        experience_id: "exp_owed",
        position: 1,
        claim_token: `clm_${drawId}`,
        claim_deadline: facts.claimDeadline,
        status: facts.status ?? "pending_claim",
        claimed_at: facts.status === "claimed" ? inMinutes(-1) : null,
        expired_at: facts.status === "expired" ? inMinutes(-1) : null,
      })
      .execute(),
  auction: (auctionId: string, facts: { winnerId: string | null; ended: boolean }) =>
    h.db
      .insertInto("auctions")
      .values({
        auction_id: auctionId,
        experience_id: "exp_owed",
        status: facts.ended ? "ended" : "open",
        currency: "USD",
        high_bid: 27500,
        winner_id: facts.winnerId,
        final_bid: facts.ended ? 27500 : null,
        ended_at: facts.ended ? inMinutes(-1) : null,
      })
      .execute(),
};

async function deliverCompleted(event: Parameters<WorkerHarness["deliver"]>[0]) {
  const job = await h.deliver(event);
  expect(await job.getState()).toBe("completed");
  return job;
}

const mailsTo = (address: string) =>
  h.smtp.mails
    .filter((mail) => mail.to.includes(address))
    .map((mail) => mail.subject)
    .sort();

const outboxOf = (address: string) =>
  h.db
    .selectFrom("email_outbox")
    .select(["email_key", "event_id", "template", "status"])
    .where("to_address", "=", address)
    .orderBy("email_key")
    .execute();

describe("guarantee: mail owed to a consumer is queued when their email arrives after the fact", () => {
  it("an active admission, an open prize and a won auction, then a sign-in with an email → 3 mails, queued and sent by the consumer event", async () => {
    await seed.admission("con_o1", "exp_o1", { expiresAt: inMinutes(10) });
    await seed.prize("con_o1", "draw_o1", { claimDeadline: inMinutes(60) });
    await seed.auction("auc_o1", { winnerId: "con_o1", ended: true });
    const event = authenticated("con_o1", { at: at(5), email: "o1@example.com" });
    const job = await deliverCompleted(event);

    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 3 });
    expect(await outboxOf("o1@example.com")).toEqual([
      {
        email_key: "admission-granted:exp_o1:con_o1",
        event_id: event.id,
        template: "admission-granted",
        status: "sent",
      },
      {
        email_key: "auction-won:auc_o1",
        event_id: event.id,
        template: "auction-won",
        status: "sent",
      },
      {
        email_key: "draw-winner:draw_o1:con_o1",
        event_id: event.id,
        template: "draw-winner",
        status: "sent",
      },
    ]);
    const mails = h.smtp.mails.filter((mail) => mail.to.includes("o1@example.com"));
    expect(mails.map((mail) => mail.subject).sort()).toEqual([
      "You won the auction!",
      "You won the draw! Claim your prize",
      "You're in! Complete your purchase",
    ]);
    const text = mails.map((mail) => mail.text ?? "").join("\n");
    expect(text).toContain("https://shop.test/checkout?token=adm_exp_o1");
    expect(text).toContain("https://shop.test/claim?draw=draw_o1&token=clm_draw_o1");
    expect(text).toContain("https://shop.test/auctions/auc_o1/checkout");
    expect(text).toContain("$275.00");
  });

  it("a link (consumer.linked) that brings the first email → the same mails", async () => {
    await seed.admission("con_o2", "exp_o2", { expiresAt: inMinutes(10) });
    await deliverCompleted(authenticated("con_o2", { at: at(1), method: "passkey" }));
    expect(mailsTo("o2@example.com")).toEqual([]);
    await deliverCompleted(
      linked("con_o2", { at: at(2), externalCustomerId: "shop_cus_o2", email: "o2@example.com" }),
    );
    expect(mailsTo("o2@example.com")).toEqual(["You're in! Complete your purchase"]);
  });
});

describe("guarantee: no mail a later fact has superseded is sent after the fact", () => {
  it("6 superseded facts (admission completed, expired, window passed; prize claimed, expired, deadline passed) and 2 auctions not won → 0 mails", async () => {
    await seed.admission("con_s1", "exp_done", {
      expiresAt: inMinutes(10),
      completedAt: inMinutes(-1),
    });
    await seed.admission("con_s1", "exp_gone", {
      expiresAt: inMinutes(10),
      expiredAt: inMinutes(-1),
    });
    await seed.admission("con_s1", "exp_late", { expiresAt: inMinutes(-1) });
    await seed.prize("con_s1", "draw_claimed", { claimDeadline: inMinutes(60), status: "claimed" });
    await seed.prize("con_s1", "draw_expired", { claimDeadline: inMinutes(60), status: "expired" });
    await seed.prize("con_s1", "draw_late", { claimDeadline: inMinutes(-1) });
    await seed.auction("auc_open", { winnerId: null, ended: false });
    await seed.auction("auc_other", { winnerId: "con_someone_else", ended: true });
    // Outbid on auc_open: that mail is never owed after the fact.
    await h.db
      .insertInto("auction_bids")
      .values({
        bid_id: "bid_s1",
        auction_id: "auc_open",
        experience_id: "exp_owed",
        consumer_id: "con_s1",
        amount: 25000,
        currency: "USD",
        placed_at: inMinutes(-2),
      })
      .execute();

    const job = await deliverCompleted(
      authenticated("con_s1", { at: at(5), email: "s1@example.com" }),
    );
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    expect(await outboxOf("s1@example.com")).toEqual([]);
  });
});

describe("guarantee: a mail both paths could queue is one outbox row and one send", () => {
  it("a mail the admission already queued and sent, then the sign-in → still 1 row, 1 send", async () => {
    await seed.admission("con_d1", "exp_d1", { expiresAt: inMinutes(10) });
    await h.db
      .insertInto("email_outbox")
      .values({
        email_key: "admission-granted:exp_d1:con_d1",
        message_id: "<d1@shop.test>",
        event_id: "evt_admitted_d1",
        template: "admission-granted",
        to_address: "d1@example.com",
        subject: "You're in! Complete your purchase",
        text_body: "sent by the admission",
        html_body: "<p>sent by the admission</p>",
      })
      .execute();
    await h.db
      .updateTable("email_outbox")
      .set({ status: "sent", sent_at: new Date() })
      .where("email_key", "=", "admission-granted:exp_d1:con_d1")
      .execute();
    const job = await deliverCompleted(
      authenticated("con_d1", { at: at(5), email: "d1@example.com" }),
    );
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    expect(await outboxOf("d1@example.com")).toEqual([
      expect.objectContaining({ event_id: "evt_admitted_d1", status: "sent" }),
    ]);
  });

  it("the same email again, no email, then a new email → the owed mail once, to the first address", async () => {
    await seed.admission("con_d2", "exp_d2", { expiresAt: inMinutes(10) });
    await deliverCompleted(authenticated("con_d2", { at: at(1), email: "d2@example.com" }));
    await deliverCompleted(authenticated("con_d2", { at: at(2), email: "d2@example.com" }));
    await deliverCompleted(authenticated("con_d2", { at: at(3), method: "passkey" }));
    await deliverCompleted(authenticated("con_d2", { at: at(4), email: "d2-new@example.com" }));
    expect(mailsTo("d2@example.com")).toEqual(["You're in! Complete your purchase"]);
    expect(mailsTo("d2-new@example.com")).toEqual([]);
    const rows = await h.db
      .selectFrom("email_outbox")
      .select("email_key")
      .where("email_key", "=", "admission-granted:exp_d2:con_d2")
      .execute();
    expect(rows).toHaveLength(1);
  });
});
