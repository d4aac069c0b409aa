import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auctionHandlers } from "../src/handlers.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("auction", auctionHandlers);
});
afterAll(async () => {
  await h.close();
});

async function knownConsumer(id: string, email: string) {
  await h.db.insertInto("consumers").values({ id, email }).execute();
}

/** Applies an event without sending its mails, as if the SMTP server were down. */
async function applyOnly(event: Envelope) {
  const options = {
    db: h.db,
    family: "auction" as const,
    handlers: auctionHandlers,
    messageIdDomain: "shop.test",
    shopUrl: "https://shop.test",
  };
  return processEvent(options, parseFamilyEvent("auction", event));
}

const auctionOf = (auctionId: string) =>
  h.db
    .selectFrom("auctions")
    .selectAll()
    .where("auction_id", "=", auctionId)
    .executeTakeFirstOrThrow();

const outboxOf = (keyPrefix: string) =>
  h.db
    .selectFrom("email_outbox")
    .select(["email_key", "template", "status", "to_address"])
    .where(sql<boolean>`starts_with(email_key, ${keyPrefix})`)
    .orderBy("email_key")
    .execute();

const analyticsOf = (auctionId: string) =>
  h.db
    .selectFrom("analytics_events")
    .select(["name", "properties"])
    .where(sql<boolean>`properties->>'auctionId' = ${auctionId}`)
    .orderBy("id")
    .execute();

const mailsTo = (address: string) => h.smtp.mails.filter((mail) => mail.to.includes(address));

describe("auction.bid_placed", () => {
  it("stores the bid and keeps the highest bidder, whatever order bids arrive in", async () => {
    await knownConsumer("con_bid_high", "bid-high@example.com");
    const subject = { auctionId: "auc_bid", experienceId: "exp_bid", currency: "USD" };
    const high = sampleEvent("auction.bid_placed", {
      ...subject,
      consumerId: "con_bid_high",
      bidId: "bid_high",
      amount: 30000,
      placedAt: "2025-11-26T10:31:00.000Z",
    });
    const low = sampleEvent("auction.bid_placed", {
      ...subject,
      consumerId: "con_bid_low",
      bidId: "bid_low",
      amount: 25000,
      placedAt: "2025-11-26T10:30:00.000Z",
    });
    const job = await h.deliver(high);
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    await h.deliver(low);

    expect(await auctionOf("auc_bid")).toMatchObject({
      experience_id: "exp_bid",
      status: "open",
      currency: "USD",
      high_bid: 30000,
      high_bidder_id: "con_bid_high",
      winner_id: null,
      final_bid: null,
      ended_at: null,
    });
    const bids = await h.db
      .selectFrom("auction_bids")
      .selectAll()
      .where("auction_id", "=", "auc_bid")
      .orderBy("amount", "desc")
      .execute();
    expect(bids).toEqual([
      {
        bid_id: "bid_high",
        auction_id: "auc_bid",
        experience_id: "exp_bid",
        consumer_id: "con_bid_high",
        amount: 30000,
        currency: "USD",
        placed_at: new Date("2025-11-26T10:31:00.000Z"),
      },
      expect.objectContaining({ bid_id: "bid_low", consumer_id: "con_bid_low", amount: 25000 }),
    ]);
    expect(await analyticsOf("auc_bid")).toEqual([
      {
        name: "bid_placed",
        properties: {
          auctionId: "auc_bid",
          consumerId: "con_bid_high",
          bidId: "bid_high",
          amount: 30000,
          currency: "USD",
        },
      },
      expect.objectContaining({ name: "bid_placed" }),
    ]);
    expect(mailsTo("bid-high@example.com")).toEqual([]);
  });

  it("breaks a tie by the earlier bid, and stores a bid re-sent under a new event id once", async () => {
    const subject = { auctionId: "auc_tie", experienceId: "exp_tie", amount: 10000 };
    const later = { ...subject, consumerId: "con_tie_later", bidId: "bid_tie_later" };
    await h.deliver(
      sampleEvent("auction.bid_placed", { ...later, placedAt: "2025-11-26T10:31:00.000Z" }),
    );
    await h.deliver(
      sampleEvent("auction.bid_placed", {
        ...subject,
        consumerId: "con_tie_first",
        bidId: "bid_tie_first",
        placedAt: "2025-11-26T10:30:00.000Z",
      }),
    );
    await h.deliver(
      sampleEvent("auction.bid_placed", { ...later, placedAt: "2025-11-26T10:31:00.000Z" }),
    );
    expect(await auctionOf("auc_tie")).toMatchObject({
      high_bid: 10000,
      high_bidder_id: "con_tie_first",
    });
    const bids = await h.db
      .selectFrom("auction_bids")
      .select("bid_id")
      .where("auction_id", "=", "auc_tie")
      .orderBy("bid_id")
      .execute();
    expect(bids).toEqual([{ bid_id: "bid_tie_first" }, { bid_id: "bid_tie_later" }]);
  });
});

describe("auction.outbid", () => {
  it("mails the outbid bidder the new high bid and a link back to the auction", async () => {
    await knownConsumer("con_out", "out@example.com");
    const auctionId = "auc/spring sale";
    const subject = { auctionId, experienceId: "exp_out", currency: "USD" };
    await h.deliver(
      sampleEvent("auction.bid_placed", {
        ...subject,
        consumerId: "con_out",
        bidId: "bid_out",
        amount: 25000,
      }),
    );
    const job = await h.deliver(
      sampleEvent("auction.outbid", { ...subject, consumerId: "con_out", newHighBid: 27500 }),
    );
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 1 });

    const [mail, ...others] = mailsTo("out@example.com");
    expect(others).toEqual([]);
    expect(mail?.subject).toBe("You've been outbid");
    const link = "https://shop.test/auctions/auc%2Fspring%20sale";
    expect(mail?.text).toContain(`The new high bid is $275.00.`);
    expect(mail?.text).toContain(link);
    expect(mail?.html).toContain(`href="${link}"`);
    expect(mail?.html).toContain("$275.00");
    expect(await outboxOf("outbid:auc%2Fspring%20sale:")).toEqual([
      {
        email_key: "outbid:auc%2Fspring%20sale:con_out:27500",
        template: "outbid",
        status: "sent",
        to_address: "out@example.com",
      },
    ]);
    // A bid the sender reported but we never saw still raises the high bid; its bidder is unknown.
    expect(await auctionOf(auctionId)).toMatchObject({
      high_bid: 27500,
      high_bidder_id: null,
      status: "open",
    });
    expect((await analyticsOf(auctionId)).at(-1)).toEqual({
      name: "outbid",
      properties: { auctionId, consumerId: "con_out", newHighBid: 27500, currency: "USD" },
    });
  });

  it("creates the auction when it comes first; an unknown bidder gets no mail", async () => {
    const job = await h.deliver(
      sampleEvent("auction.outbid", {
        auctionId: "auc_out_first",
        experienceId: "exp_out_first",
        consumerId: "con_nobody",
        newHighBid: 5000,
        currency: "EUR",
      }),
    );
    expect(await job.getState()).toBe("completed");
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    expect(await auctionOf("auc_out_first")).toMatchObject({
      experience_id: "exp_out_first",
      status: "open",
      currency: "EUR",
      high_bid: 5000,
      high_bidder_id: null,
    });
    expect(await outboxOf("outbid:auc_out_first:")).toEqual([]);
  });

  it("sends nothing once the auction has ended", async () => {
    await knownConsumer("con_out_late", "out-late@example.com");
    const subject = { auctionId: "auc_out_late", experienceId: "exp_out_late" };
    await h.deliver(sampleEvent("auction.auction_ended", { ...subject, winnerId: "con_other" }));
    const job = await h.deliver(
      sampleEvent("auction.outbid", { ...subject, consumerId: "con_out_late", newHighBid: 99000 }),
    );
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    expect(await outboxOf("outbid:auc_out_late:")).toEqual([]);
    // The late report still counts as a bid that was made.
    expect(await auctionOf("auc_out_late")).toMatchObject({ status: "ended", high_bid: 99000 });
  });

  it("sends nothing to a bidder who already bid higher, and withdraws a waiting mail", async () => {
    await knownConsumer("con_rebid", "rebid@example.com");
    const subject = { auctionId: "auc_rebid", experienceId: "exp_rebid", currency: "USD" };
    const bid = (bidId: string, amount: number) =>
      sampleEvent("auction.bid_placed", { ...subject, consumerId: "con_rebid", bidId, amount });
    const outbid = (newHighBid: number) =>
      sampleEvent("auction.outbid", { ...subject, consumerId: "con_rebid", newHighBid });

    // Outbid at 200.00 and 400.00 while the SMTP server was unreachable: both mails wait.
    expect(await applyOnly(outbid(20000))).toBe("applied");
    expect(await applyOnly(outbid(40000))).toBe("applied");
    // Their 300.00 bid answers the first only.
    await h.deliver(bid("bid_rebid_300", 30000));
    expect(await outboxOf("outbid:auc_rebid:")).toEqual([
      expect.objectContaining({
        email_key: "outbid:auc_rebid:con_rebid:20000",
        status: "cancelled",
      }),
      expect.objectContaining({ email_key: "outbid:auc_rebid:con_rebid:40000", status: "pending" }),
    ]);
    // Seen after their 300.00 bid, news of a 250.00 high bid is stale.
    const job = await h.deliver(outbid(25000));
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    expect(await outboxOf("outbid:auc_rebid:con_rebid:25000")).toEqual([]);
    expect(mailsTo("rebid@example.com")).toEqual([]);
  });
});

describe("auction.auction_ended", () => {
  it("ends the auction, withdraws waiting outbid mails and mails the winner", async () => {
    await knownConsumer("con_winner", "winner@example.com");
    await knownConsumer("con_loser", "loser@example.com");
    const subject = { auctionId: "auc_end", experienceId: "exp_end" };
    await h.deliver(
      sampleEvent("auction.bid_placed", {
        ...subject,
        consumerId: "con_loser",
        bidId: "bid_end_loser",
        amount: 25000,
        currency: "USD",
      }),
    );
    expect(
      await applyOnly(
        sampleEvent("auction.outbid", {
          ...subject,
          consumerId: "con_loser",
          newHighBid: 27500,
          currency: "USD",
        }),
      ),
    ).toBe("applied");

    const job = await h.deliver(
      sampleEvent("auction.auction_ended", {
        ...subject,
        winnerId: "con_winner",
        finalBid: 31000,
        currency: "USD",
        endedAt: "2025-11-26T10:40:00.000Z",
      }),
    );
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 1 });

    expect(await auctionOf("auc_end")).toMatchObject({
      status: "ended",
      winner_id: "con_winner",
      final_bid: 31000,
      currency: "USD",
      high_bid: 31000,
      ended_at: new Date("2025-11-26T10:40:00.000Z"),
      winner_notified_at: null,
    });
    expect(await outboxOf("outbid:auc_end:")).toEqual([
      expect.objectContaining({ status: "cancelled", to_address: "loser@example.com" }),
    ]);
    expect(mailsTo("loser@example.com")).toEqual([]);
    const [mail, ...others] = mailsTo("winner@example.com");
    expect(others).toEqual([]);
    expect(mail?.subject).toBe("You won the auction!");
    const checkout = "https://shop.test/auctions/auc_end/checkout";
    expect(mail?.text).toContain("$310.00");
    expect(mail?.text).toContain(checkout);
    expect(mail?.html).toContain("$310.00");
    expect(mail?.html).toContain(`href="${checkout}"`);
    expect(await outboxOf("auction-won:auc_end")).toEqual([
      {
        email_key: "auction-won:auc_end",
        template: "auction-won",
        status: "sent",
        to_address: "winner@example.com",
      },
    ]);
    expect((await analyticsOf("auc_end")).at(-1)).toEqual({
      name: "auction_ended",
      properties: { auctionId: "auc_end", winnerId: "con_winner", finalBid: 31000 },
    });
  });

  it("mails nobody when the auction ends without bids or with an unknown winner", async () => {
    const noBids = await h.deliver(
      sampleEvent("auction.auction_ended", {
        auctionId: "auc_empty",
        experienceId: "exp_empty",
        winnerId: null,
        finalBid: null,
      }),
    );
    expect(noBids.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    expect(await auctionOf("auc_empty")).toMatchObject({
      status: "ended",
      winner_id: null,
      final_bid: null,
      high_bid: null,
    });
    expect((await analyticsOf("auc_empty")).at(-1)?.properties).toEqual({
      auctionId: "auc_empty",
      winnerId: null,
      finalBid: null,
    });

    const unknown = await h.deliver(
      sampleEvent("auction.auction_ended", { auctionId: "auc_unknown", winnerId: "con_ghost" }),
    );
    expect(await unknown.getState()).toBe("completed");
    expect(unknown.returnvalue).toEqual({ outcome: "applied", emailsSent: 0 });
    expect(await auctionOf("auc_unknown")).toMatchObject({ winner_id: "con_ghost" });
    expect(await outboxOf("auction-won:auc_unknown")).toEqual([]);
  });
});

describe("auction.winner_notified", () => {
  it("creates the auction when it comes first and keeps the latest notification", async () => {
    const subject = { auctionId: "auc_notified", experienceId: "exp_notified" };
    const notified = (notifiedAt: string) =>
      sampleEvent("auction.winner_notified", { ...subject, consumerId: "con_n", notifiedAt });
    await h.deliver(notified("2025-11-26T10:45:00.000Z"));
    expect(await auctionOf("auc_notified")).toMatchObject({
      experience_id: "exp_notified",
      status: "open",
      winner_notified_at: new Date("2025-11-26T10:45:00.000Z"),
    });
    await h.deliver(notified("2025-11-26T10:41:00.000Z"));
    await h.deliver(sampleEvent("auction.auction_ended", { ...subject, winnerId: "con_n" }));
    expect(await auctionOf("auc_notified")).toMatchObject({
      status: "ended",
      winner_id: "con_n",
      winner_notified_at: new Date("2025-11-26T10:45:00.000Z"),
    });
    expect((await analyticsOf("auc_notified"))[0]).toEqual({
      name: "auction_winner_notified",
      properties: { auctionId: "auc_notified", consumerId: "con_n" },
    });
  });
});
