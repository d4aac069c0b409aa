import type { AuctionsTable, Database } from "@fanfare-relay/db/schema";
import { expressionBuilder, sql, type Expression, type Selectable, type Transaction } from "kysely";

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
 * The high bidder at `highBid`. Only a bid we stored at the high bid names the high bidder: when an
 * outbid reported a higher bid we never saw, the high bidder is unknown, not the best bidder we
 * know.
 */
function highBidderAt(auctionId: Expression<string>, highBid: Expression<number | null>) {
  return expressionBuilder<Database>()
    .selectFrom("auction_bids")
    .select("auction_bids.consumer_id")
    .where("auction_bids.auction_id", "=", auctionId)
    .where("auction_bids.amount", "=", highBid)
    .orderBy("auction_bids.amount", "desc")
    .orderBy("auction_bids.placed_at", "asc")
    .orderBy("auction_bids.bid_id", "asc")
    .limit(1);
}

/** The high bid in the upsert's DO UPDATE SET (GREATEST ignores NULLs). */
const mergedHighBid = sql<number | null>`GREATEST(excluded.high_bid, auctions.high_bid)`;

/**
 * Merges one event's facts into the auction, in one statement (two when a concurrent merge of
 * the same auction committed while it waited). Each event only fills the columns it knows,
 * amounts and times only move up, and the status and high bidder are derived from the merged
 * columns and the stored bids, so the row ends the same whatever order the events arrive in.
 */
export async function mergeAuction(
  tx: Transaction<Database>,
  auctionId: string,
  experienceId: string,
  facts: AuctionFacts,
): Promise<Auction> {
  const highBid = facts.highBid ?? null;
  const endedAt = facts.endedAt ?? null;
  const upsert = () =>
    tx
      .insertInto("auctions")
      .values({
        auction_id: auctionId,
        experience_id: experienceId,
        // A new row holds only this event's facts, so they alone give its status and high bidder.
        status: endedAt === null ? "open" : "ended",
        currency: facts.currency ?? null,
        high_bid: highBid,
        high_bidder_id: highBidderAt(sql.val(auctionId), sql.val(highBid)),
        winner_id: facts.winnerId ?? null,
        final_bid: facts.finalBid ?? null,
        ended_at: endedAt,
        winner_notified_at: facts.winnerNotifiedAt ?? null,
      })
      .onConflict((conflict) =>
        conflict
          .column("auction_id")
          .doUpdateSet((eb) => ({
            currency: eb.fn.coalesce("excluded.currency", "auctions.currency"),
            high_bid: mergedHighBid,
            winner_id: eb.fn.coalesce("excluded.winner_id", "auctions.winner_id"),
            final_bid: eb.fn.coalesce("excluded.final_bid", "auctions.final_bid"),
            ended_at: eb.fn.coalesce("excluded.ended_at", "auctions.ended_at"),
            winner_notified_at: eb.fn<Date | null>("greatest", [
              "excluded.winner_notified_at",
              "auctions.winner_notified_at",
            ]),
            // SET reads the row as it was: both are derived from the merged values.
            status: sql<"open" | "ended">`CASE
              WHEN COALESCE(excluded.ended_at, auctions.ended_at) IS NOT NULL THEN 'ended'
              ELSE 'open' END`,
            high_bidder_id: highBidderAt(sql.ref("auctions.auction_id"), mergedHighBid),
          }))
          // The high bidder is read from the bids this statement's snapshot sees. Every
          // transaction that stores a bid merges its auction too (bid_placed), so a bid committed
          // after that snapshot comes with a row version the snapshot does not see: this
          // statement waited for that transaction's row lock. Then it changes nothing (the row
          // stays locked) and runs again below, with a snapshot taken under the lock that sees
          // every bid committed before us: two bids applied concurrently cannot each miss the
          // other. (A new row needs no check: a transaction that stored a bid on this auction
          // and committed would have created the row, so the bids this snapshot sees are all.)
          .where(
            sql<boolean>`auctions.xmin = (SELECT seen.xmin FROM auctions AS seen
              WHERE seen.auction_id = excluded.auction_id)`,
          ),
      )
      .returningAll();
  return (
    (await upsert().executeTakeFirst()) ??
    // The row is ours now and its version is committed: the check above holds this time.
    upsert().executeTakeFirstOrThrow()
  );
}
