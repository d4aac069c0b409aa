import { createMailer, type Mailer } from "@fanfare-relay/worker/mailer";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { sql } from "kysely";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auctionHandlers } from "../src/handlers.ts";
import {
  apply,
  auctionLifecycle,
  endedAuction,
  mailsAbout as sharedMailsAbout,
  send,
  type AuctionCast,
  type AuctionStep,
} from "./auction-orders.ts";
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

/** The queue test's auction: con_won, whose email is known from the start, wins. */
const knownWinner: AuctionCast = {
  experienceId: "exp_life",
  winnerId: "con_won",
  winnerEmail: "won@example.com",
};

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

const mailsAbout = (auctionId: string) => sharedMailsAbout(h, auctionId);

describe("the auction lifecycle", () => {
  it("24 orders of two bids, outbid and end, with the winner's sign-in and winner notified slotted in → the same rows; the auction-won mail exactly once in every order, by the end or by the sign-in; outbid mail only before the end", async () => {
    // Every order of the four events that decide rows and mails (24). The winner's sign-in (the
    // only way their email becomes known) and "winner notified" (which only raises its own
    // column) are slotted in at rotating positions rather than multiplying the orders by 30;
    // every-order.test.ts plays the sign-in at every position.
    const orders = permutations(["bidLost", "bidWon", "outbid", "ended"] as const).map(
      (order, index): AuctionStep[] => {
        const signedIn = Math.floor(index / 5) % (order.length + 1);
        const withSignIn: AuctionStep[] = [
          ...order.slice(0, signedIn),
          "authenticated",
          ...order.slice(signedIn),
        ];
        const at = index % (withSignIn.length + 1);
        return [...withSignIn.slice(0, at), "notified", ...withSignIn.slice(at)];
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
          const winnerId = `con_won_${String(index).padStart(3, "0")}`;
          const cast = {
            experienceId: "exp_life",
            winnerId,
            winnerEmail: `${winnerId}@example.com`,
          };
          const events = auctionLifecycle(auctionId, cast);
          // What the worker does per job, without the queue: apply, then send what was queued.
          for (const step of order) {
            expect(await apply(h, events[step])).toBe("applied");
            await send(h, mailer, events[step]);
          }
          return { order, cast, rows: await finalRows(auctionId), mails: mailsAbout(auctionId) };
        }),
      ),
    );

    const outbid = "lost@example.com: You've been outbid";
    for (const { order, cast, rows, mails } of finals) {
      const label = order.join(" → ");
      const outbidBeforeEnd = order.indexOf("outbid") < order.indexOf("ended");
      expect(rows.auction, label).toEqual(endedAuction(cast));
      expect(
        rows.bids.map(({ consumer_id: _id, ...bid }) => bid),
        label,
      ).toEqual(finals[0]?.rows.bids.map(({ consumer_id: _id, ...bid }) => bid));
      expect(rows.analytics, label).toEqual([
        "auction_ended",
        "auction_winner_notified",
        "bid_placed",
        "bid_placed",
        "outbid",
      ]);
      // The outbid mail only goes out while bidding is open; the winner's mail always, once.
      expect(rows.emails, label).toEqual([
        { template: "auction-won", status: "sent", to_address: cast.winnerEmail },
        ...(outbidBeforeEnd
          ? [{ template: "outbid", status: "sent", to_address: "lost@example.com" }]
          : []),
      ]);
      const won = `${cast.winnerEmail}: You won the auction!`;
      expect(mails, label).toEqual(outbidBeforeEnd ? [won, outbid] : [won]);
    }
    // Both paths are played: the end with the email known, and the sign-in after the end.
    const signInAfterEnd = finals.filter(
      ({ order }) => order.indexOf("authenticated") > order.indexOf("ended"),
    ).length;
    expect(signInAfterEnd).toBeGreaterThan(0);
    expect(signInAfterEnd).toBeLessThan(24);
    expect(finals[0]?.rows.bids).toEqual([
      expect.objectContaining({ consumer_id: "con_lost", amount: 25000 }),
      expect.objectContaining({ consumer_id: finals[0]?.cast.winnerId, amount: 27500 }),
    ]);
  });

  it("ends the same through the queue, mailing as the order allows", async () => {
    const orders: { order: AuctionStep[]; mails: string[] }[] = [
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
      const events = auctionLifecycle(auctionId, knownWinner);
      for (const step of order) {
        const job = await h.deliver(events[step]);
        expect(await job.getState()).toBe("completed");
      }
      const rows = await finalRows(auctionId);
      expect(rows.auction).toEqual(endedAuction(knownWinner));
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
