import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auctionHandlers } from "../src/handlers.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("auction", auctionHandlers);
  await h.db
    .insertInto("consumers")
    .values([
      { id: "con_dup_bidder", email: "dup-bidder@example.com" },
      { id: "con_dup_winner", email: "dup-winner@example.com" },
    ])
    .execute();
});
afterAll(async () => {
  await h.close();
});

const options = () => ({
  db: h.db,
  family: "auction" as const,
  handlers: auctionHandlers,
  messageIdDomain: "shop.test",
  shopUrl: "https://shop.test",
});

const twenty = <T>(run: () => Promise<T>) => Promise.all(Array.from({ length: 20 }, run));

const analyticsCount = async (eventId: string) =>
  (
    await h.db
      .selectFrom("analytics_events")
      .select("name")
      .where("event_id", "=", eventId)
      .execute()
  ).length;

describe("guarantee: duplicate auction events apply once", () => {
  it("20 concurrent applications of one bid store it once", async () => {
    const event = sampleEvent("auction.bid_placed", {
      auctionId: "auc_dup_bid",
      consumerId: "con_dup_bidder",
      bidId: "bid_dup",
      amount: 12000,
    });
    const outcomes = await twenty(() =>
      processEvent(options(), parseFamilyEvent("auction", event)),
    );
    expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(19);
    const bids = await h.db
      .selectFrom("auction_bids")
      .select(["bid_id", "amount"])
      .where("auction_id", "=", "auc_dup_bid")
      .execute();
    expect(bids).toEqual([{ bid_id: "bid_dup", amount: 12000 }]);
    expect(await analyticsCount(event.id)).toBe(1);
  });

  it("20 concurrent applications of one outbid and of one end queue each mail once", async () => {
    const subject = { auctionId: "auc_dup_mail", currency: "USD" };
    const outbid = sampleEvent("auction.outbid", {
      ...subject,
      consumerId: "con_dup_bidder",
      newHighBid: 15000,
    });
    const ended = sampleEvent("auction.auction_ended", {
      ...subject,
      winnerId: "con_dup_winner",
      finalBid: 15000,
    });
    for (const event of [outbid, ended]) {
      const outcomes = await twenty(() =>
        processEvent(options(), parseFamilyEvent("auction", event)),
      );
      expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(1);
      expect(await analyticsCount(event.id)).toBe(1);
    }
    const outbox = await h.db
      .selectFrom("email_outbox")
      .select(["email_key", "status"])
      .where(sql<boolean>`email_key LIKE '%auc_dup_mail%'`)
      .orderBy("email_key")
      .execute();
    // The end withdrew the outbid mail nobody had sent yet.
    expect(outbox).toEqual([
      { email_key: "auction-won:auc_dup_mail", status: "pending" },
      { email_key: "outbid:auc_dup_mail:con_dup_bidder:15000", status: "cancelled" },
    ]);
  });

  it("20 concurrent enqueues of one outbid make one job and one mail", async () => {
    const event = sampleEvent("auction.outbid", {
      auctionId: "auc_dup_queue",
      consumerId: "con_dup_bidder",
      newHighBid: 18000,
      currency: "USD",
    });
    const results = await twenty(() => h.producer.enqueue(event));
    const jobIds = new Set(results.map((result) => result.jobId));
    expect(jobIds.size).toBe(1);
    const [jobId] = jobIds;
    const job = await h.settled(jobId ?? "");
    expect(job.returnvalue).toEqual({ outcome: "applied", emailsSent: 1 });
    const mails = h.smtp.mails.filter((mail) => mail.text?.includes("/auctions/auc_dup_queue"));
    expect(mails.map((mail) => mail.to)).toEqual([["dup-bidder@example.com"]]);
    expect(await analyticsCount(event.id)).toBe(1);
  });
});
