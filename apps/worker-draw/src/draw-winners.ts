import type { Database, DrawWinnerStatus } from "@fanfare-relay/db/schema";
import { sql, type Transaction } from "kysely";

/** What one event knows about one winner; every other column is left as it is. */
export interface WinnerFacts {
  consumerId: string;
  position?: number;
  claimToken?: string | undefined;
  claimDeadline?: string;
  orderId?: string | undefined;
  claimedAt?: string;
  expiredAt?: string;
}

/**
 * Which event's claim token wins when two disagree: the selection issued it (and mailed it), so
 * its token beats the one a claim reports, whatever order they arrive in. An expiry's token is not
 * stored ("none"): it adds nothing the selection does not already say.
 */
export type TokenSource = "selection" | "claim" | "none";

export interface WinnerState {
  consumer_id: string;
  status: DrawWinnerStatus;
}

/** The status a row's facts give: claimed beats expired beats pending. */
function statusOf(claimed: boolean, expired: boolean): DrawWinnerStatus {
  if (claimed) return "claimed";
  return expired ? "expired" : "pending_claim";
}

/**
 * Merges one event's facts into the winners' rows, in one statement. Each event only fills the
 * columns it knows, instants merge with LEAST, and the status is derived from the merged facts
 * (claimed beats expired beats pending), so the rows end the same whatever order the events
 * arrive in. Returns each winner's row state after the merge (in no particular order).
 */
export async function mergeWinners(
  tx: Transaction<Database>,
  drawId: string,
  experienceId: string,
  winners: readonly WinnerFacts[],
  tokenSource: TokenSource,
): Promise<WinnerState[]> {
  if (winners.length === 0) return [];
  return tx
    .insertInto("draw_winners")
    .values(
      winners.map((winner) => {
        const claimedAt = winner.claimedAt ?? null;
        const expiredAt = winner.expiredAt ?? null;
        return {
          draw_id: drawId,
          consumer_id: winner.consumerId,
          experience_id: experienceId,
          // A new row holds only this event's facts, so they alone give its status.
          status: statusOf(claimedAt !== null, expiredAt !== null),
          position: winner.position ?? null,
          claim_token: tokenSource === "none" ? null : (winner.claimToken ?? null),
          claim_deadline: winner.claimDeadline ?? null,
          order_id: winner.orderId ?? null,
          claimed_at: claimedAt,
          expired_at: expiredAt,
        };
      }),
    )
    .onConflict((conflict) =>
      conflict.columns(["draw_id", "consumer_id"]).doUpdateSet((eb) => ({
        position: eb.fn.coalesce("excluded.position", "draw_winners.position"),
        claim_token:
          tokenSource === "selection"
            ? eb.fn.coalesce("excluded.claim_token", "draw_winners.claim_token")
            : eb.fn.coalesce("draw_winners.claim_token", "excluded.claim_token"),
        claim_deadline: eb.fn.coalesce("excluded.claim_deadline", "draw_winners.claim_deadline"),
        order_id: eb.fn.coalesce("excluded.order_id", "draw_winners.order_id"),
        // LEAST ignores NULLs: the first instant reported stays, whichever event came first.
        claimed_at: sql<Date | null>`LEAST(excluded.claimed_at, draw_winners.claimed_at)`,
        expired_at: sql<Date | null>`LEAST(excluded.expired_at, draw_winners.expired_at)`,
        // SET reads the row as it was, so the status is derived from the merged instants (either
        // is set once the old row or this event has it), as statusOf does for a new row.
        status: sql<DrawWinnerStatus>`CASE
          WHEN COALESCE(excluded.claimed_at, draw_winners.claimed_at) IS NOT NULL THEN 'claimed'
          WHEN COALESCE(excluded.expired_at, draw_winners.expired_at) IS NOT NULL THEN 'expired'
          ELSE 'pending_claim' END`,
      })),
    )
    .returning(["consumer_id", "status"])
    .execute();
}
