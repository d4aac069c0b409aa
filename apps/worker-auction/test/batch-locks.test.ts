import { applyEvents, parseFamilyEvent } from "@fanfare-relay/worker/process-event";
import { holdBeforeCommit, transactionRendezvous } from "@fanfare-relay/worker/testing/rendezvous";
import {
  createWorkerHarness,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auctionHandlers } from "../src/handlers.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("auction", auctionHandlers);
});
afterAll(async () => {
  await h.close();
});

const bid = (auctionId: string, consumerId: string, amount: number, created: number) =>
  parseFamilyEvent(
    "auction",
    sampleEvent(
      "auction.bid_placed",
      { auctionId, consumerId, amount, bidId: `bid_${auctionId}_${String(amount)}` },
      { created },
    ),
  );

describe("fault: two batches bidding on the same auctions in opposite orders", () => {
  it("5 rounds of 2 concurrent batches (X then Y ∥ Y then X), each waiting after its first bid until the other did its first → no deadlock: 10 batches commit, every auction ends on its highest bid", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (let round = 0; round < 5; round += 1) {
      const [x, y] = [`auc_lock_x${String(round)}`, `auc_lock_y${String(round)}`];
      // Each transaction waits after each handler until the other one arrived (or is waiting
      // on a lock): without the batch's up-front locks, X ∥ Y then Y ∥ X is a deadlock.
      const { arrive } = transactionRendezvous(h.db, 2);
      const options = {
        db: h.db,
        family: "auction" as const,
        handlers: holdBeforeCommit(auctionHandlers, arrive),
        messageIdDomain: "shop.test",
        shopUrl: "https://shop.test",
      };
      const results = await Promise.allSettled([
        applyEvents(options, [bid(x, "con_a", 100, now), bid(y, "con_a", 200, now + 1)]),
        applyEvents(options, [bid(y, "con_b", 300, now), bid(x, "con_b", 400, now + 1)]),
      ]);
      expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled"]);
      const auctions = await h.db
        .selectFrom("auctions")
        .select(["auction_id", "high_bid", "high_bidder_id"])
        .where("auction_id", "in", [x, y])
        .orderBy("auction_id")
        .execute();
      expect(auctions).toEqual([
        { auction_id: x, high_bid: 400, high_bidder_id: "con_b" },
        { auction_id: y, high_bid: 300, high_bidder_id: "con_b" },
      ]);
    }
  }, 30_000);
});
