import type { AuctionsTable, Database } from "@fanfare-relay/db/schema";
import { sql, type Selectable, type Transaction } from "kysely";

export interface AuctionFacts {
  currency?: string | undefined;
  /** A bid amount some event vouches for: the high bid is never below it. */
  highBid?: number | null | undefined;
  winnerId?: string | null | undefined;
  finalBid?: number | null | undefined;
  endedAt?: string | undefined;
  winnerNotifiedAt?: string | undefined;
}

export type Auction = Selectable<AuctionsTable>;

/**
 * Merges one event's facts into the auction. Each event only fills the columns it knows, amounts
 * and times only move up, and the status and high bidder are derived from what is stored, so the
 * row ends the same whatever order the events arrive in.
 */
export async function mergeAuction(
  tx: Transaction<Database>,
  auctionId: string,
  experienceId: string,
  facts: AuctionFacts,
): Promise<Auction> {
  // The upsert locks the row: the derivation below then sees every bid committed before us, so
  // two bids applied concurrently cannot each miss the other.
  await tx
    .insertInto("auctions")
    .values({
      auction_id: auctionId,
      experience_id: experienceId,
      currency: facts.currency ?? null,
      high_bid: facts.highBid ?? null,
      winner_id: facts.winnerId ?? null,
      final_bid: facts.finalBid ?? null,
      ended_at: facts.endedAt ?? null,
      winner_notified_at: facts.winnerNotifiedAt ?? null,
    })
    .onConflict((conflict) =>
      conflict.column("auction_id").doUpdateSet((eb) => ({
        currency: eb.fn.coalesce("excluded.currency", "auctions.currency"),
        // GREATEST ignores NULLs.
        high_bid: eb.fn<number | null>("greatest", ["excluded.high_bid", "auctions.high_bid"]),
        winner_id: eb.fn.coalesce("excluded.winner_id", "auctions.winner_id"),
        final_bid: eb.fn.coalesce("excluded.final_bid", "auctions.final_bid"),
        ended_at: eb.fn.coalesce("excluded.ended_at", "auctions.ended_at"),
        winner_notified_at: eb.fn<Date | null>("greatest", [
          "excluded.winner_notified_at",
          "auctions.winner_notified_at",
        ]),
      })),
    )
    .execute();
  return tx
    .updateTable("auctions")
    .set((eb) => ({
      status: sql<"open" | "ended">`CASE WHEN ended_at IS NOT NULL THEN 'ended' ELSE 'open' END`,
      high_bidder_id: eb
        .selectFrom("auction_bids")
        .select("auction_bids.consumer_id")
        .whereRef("auction_bids.auction_id", "=", "auctions.auction_id")
        // Only a bid we stored at the high bid names the high bidder: when an outbid reported
        // a higher bid we never saw, the high bidder is unknown, not the best bidder we know.
        .whereRef("auction_bids.amount", "=", "auctions.high_bid")
        .orderBy("auction_bids.amount", "desc")
        .orderBy("auction_bids.placed_at", "asc")
        .orderBy("auction_bids.bid_id", "asc")
        .limit(1),
    }))
    .where("auction_id", "=", auctionId)
    .returningAll()
    .executeTakeFirstOrThrow();
}
