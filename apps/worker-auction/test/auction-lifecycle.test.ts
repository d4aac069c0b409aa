import { deliverEventEmails } from "@fanfare-relay/worker/email-outbox";
import { createMailer, type Mailer } from "@fanfare-relay/worker/mailer";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { sql } from "kysely";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auctionHandlers } from "../src/handlers.ts";
import { permutations } from "@fanfare-relay/testing/permutations";

let h: WorkerHarness;
let mailer: Mailer;
beforeAll(async () => {
  h = await createWorkerHarness("auction", auctionHandlers);
  mailer = createMailer({ smtpUrl: h.smtp.url, from: "Shop <no-reply@shop.test>" });
  await h.db
    .insertInto("consumers")
    .values([
      { id: "con_lost", email: "lost@example.com" },
      { id: "con_won", email: "won@example.com" },
    ])
    .execute();
});
afterAll(async () => {
  mailer.close();
  await h.close();
});

type Step = "bidLost" | "bidWon" | "outbid" | "ended" | "notified";

/** Con_lost bids 250.00, con_won 275.00 and wins; con_lost hears of it through "outbid". */
function lifecycle(auctionId: string): Record<Step, Envelope> {
  const subject = { auctionId, experienceId: "exp_life" };
  return {
    bidLost: sampleEvent("auction.bid_placed", {
      ...subject,
      consumerId: "con_lost",
      bidId: `${auctionId}_bid_lost`,
      amount: 25000,
      currency: "USD",
      placedAt: "2025-11-26T10:30:00.000Z",
    }),
    bidWon: sampleEvent("auction.bid_placed", {
      ...subject,
      consumerId: "con_won",
      bidId: `${auctionId}_bid_won`,
      amount: 27500,
      currency: "USD",
      placedAt: "2025-11-26T10:31:00.000Z",
    }),
    outbid: sampleEvent("auction.outbid", {
      ...subject,
      consumerId: "con_lost",
      newHighBid: 27500,
      currency: "USD",
      outbidAt: "2025-11-26T10:31:00.000Z",
    }),
    ended: sampleEvent("auction.auction_ended", {
      ...subject,
      winnerId: "con_won",
      finalBid: 27500,
      currency: "USD",
      endedAt: "2025-11-26T10:40:00.000Z",
    }),
    notified: sampleEvent("auction.winner_notified", {
      ...subject,
      consumerId: "con_won",
      notifiedAt: "2025-11-26T10:40:10.000Z",
    }),
  };
}

/** The auction's rows with its own ids stripped, to compare auctions with each other. */
async function finalRows(auctionId: string) {
  const { auction_id: _id, ...auction } = await h.db
    .selectFrom("auctions")
    .selectAll()
    .where("auction_id", "=", auctionId)
    .executeTakeFirstOrThrow();
  const bids = await h.db
    .selectFrom("auction_bids")
    .select(["experience_id", "consumer_id", "amount", "currency", "placed_at"])
    .where("auction_id", "=", auctionId)
    .orderBy("consumer_id")
    .execute();
  const emails = await h.db
    .selectFrom("email_outbox")
    .select(["template", "status", "to_address"])
    .where(sql<boolean>`email_key LIKE '%' || ${auctionId} || '%'`)
    .orderBy("template")
    .execute();
  const analytics = await h.db
    .selectFrom("analytics_events")
    .select("name")
    .where(sql<boolean>`properties->>'auctionId' = ${auctionId}`)
    .orderBy("name")
    .execute();
  return { auction, bids, emails, analytics: analytics.map((row) => row.name) };
}

const mailsAbout = (auctionId: string) =>
  h.smtp.mails
    .filter((mail) => mail.text?.includes(`/auctions/${auctionId}`))
    .map((mail) => `${mail.to.join(",")}: ${mail.subject ?? ""}`)
    .sort();

const expectedAuction = {
  experience_id: "exp_life",
  status: "ended",
  currency: "USD",
  high_bid: 27500,
  high_bidder_id: "con_won",
  winner_id: "con_won",
  final_bid: 27500,
  ended_at: new Date("2025-11-26T10:40:00.000Z"),
  winner_notified_at: new Date("2025-11-26T10:40:10.000Z"),
};

describe("the auction lifecycle", () => {
  it("ends in the same rows for every order of its events; no outbid mail after the end", async () => {
    const options = {
      db: h.db,
      family: "auction" as const,
      handlers: auctionHandlers,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
    };
    // Every order of the four events that decide rows and mails (24); "winner notified" only
    // raises its own column, so it is slotted in at a rotating position rather than multiplying
    // the orders by five.
    const orders = permutations(["bidLost", "bidWon", "outbid", "ended"] as const).map(
      (order, index): Step[] => {
        const at = index % (order.length + 1);
        return [...order.slice(0, at), "notified", ...order.slice(at)];
      },
    );
    expect(new Set(orders.map((order) => order.join())).size).toBe(24);
    // Each order is played in sequence on an auction of its own; orders run side by side.
    const limit = pLimit(8);
    const finals = await Promise.all(
      orders.map((order, index) =>
        limit(async () => {
          // Fixed width: no auction id is a prefix of another.
          const auctionId = `auc_order_${String(index).padStart(3, "0")}`;
          const events = lifecycle(auctionId);
          // What the worker does per job, without the queue: apply, then send what was queued.
          for (const step of order) {
            const event = events[step];
            expect(await processEvent(options, parseFamilyEvent("auction", event))).toBe("applied");
            const report = await deliverEventEmails(h.db, mailer, event.id);
            expect(report.failed).toEqual([]);
          }
          return { order, rows: await finalRows(auctionId), mails: mailsAbout(auctionId) };
        }),
      ),
    );

    const won = "won@example.com: You won the auction!";
    const outbid = "lost@example.com: You've been outbid";
    for (const { order, rows, mails } of finals) {
      const outbidBeforeEnd = order.indexOf("outbid") < order.indexOf("ended");
      expect(rows.auction).toEqual(expectedAuction);
      expect(rows.bids).toEqual(finals[0]?.rows.bids);
      expect(rows.analytics).toEqual([
        "auction_ended",
        "auction_winner_notified",
        "bid_placed",
        "bid_placed",
        "outbid",
      ]);
      // The outbid mail only goes out while bidding is open; the winner's mail always, once.
      expect(rows.emails).toEqual([
        { template: "auction-won", status: "sent", to_address: "won@example.com" },
        ...(outbidBeforeEnd
          ? [{ template: "outbid", status: "sent", to_address: "lost@example.com" }]
          : []),
      ]);
      expect(mails).toEqual(outbidBeforeEnd ? [outbid, won] : [won]);
    }
    expect(finals[0]?.rows.bids).toEqual([
      expect.objectContaining({ consumer_id: "con_lost", amount: 25000 }),
      expect.objectContaining({ consumer_id: "con_won", amount: 27500 }),
    ]);
  });

  it("ends the same through the queue, mailing as the order allows", async () => {
    const orders: { order: Step[]; mails: string[] }[] = [
      {
        order: ["bidLost", "bidWon", "outbid", "ended", "notified"],
        mails: ["lost@example.com: You've been outbid", "won@example.com: You won the auction!"],
      },
      {
        order: ["notified", "ended", "outbid", "bidWon", "bidLost"],
        mails: ["won@example.com: You won the auction!"],
      },
      {
        order: ["outbid", "notified", "bidWon", "ended", "bidLost"],
        mails: ["lost@example.com: You've been outbid", "won@example.com: You won the auction!"],
      },
    ];
    for (const [index, { order, mails }] of orders.entries()) {
      const auctionId = `auc_queue_${String(index)}`;
      const events = lifecycle(auctionId);
      for (const step of order) {
        const job = await h.deliver(events[step]);
        expect(await job.getState()).toBe("completed");
      }
      const rows = await finalRows(auctionId);
      expect(rows.auction).toEqual(expectedAuction);
      expect(rows.bids).toHaveLength(2);
      expect(mailsAbout(auctionId)).toEqual(mails);
    }
  });
});

describe("guarantee: concurrent bids on one auction keep the highest", () => {
  it("leave the top bidder however their transactions interleave", async () => {
    const options = {
      db: h.db,
      family: "auction" as const,
      handlers: auctionHandlers,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
    };
    const bids = Array.from({ length: 20 }, (_, index) =>
      sampleEvent("auction.bid_placed", {
        auctionId: "auc_race",
        consumerId: `con_race_${String(index)}`,
        bidId: `bid_race_${String(index)}`,
        amount: 1000 + ((index * 7) % 20) * 100,
      }),
    );
    await Promise.all(bids.map((bid) => processEvent(options, parseFamilyEvent("auction", bid))));
    const auction = await h.db
      .selectFrom("auctions")
      .select(["high_bid", "high_bidder_id"])
      .where("auction_id", "=", "auc_race")
      .executeTakeFirstOrThrow();
    // index 17: (17 * 7) % 20 = 19, the highest amount.
    expect(auction).toEqual({ high_bid: 2900, high_bidder_id: "con_race_17" });
  });
});
