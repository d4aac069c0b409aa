import type { Database, DrawWinnerStatus } from "@fanfare-relay/db/schema";
import { inRounds } from "@fanfare-relay/worker/rounds";
import { sql, type Transaction } from "kysely";

/** What one event knows about one winner; every other column is left as it is. */
export interface WinnerFacts {
  drawId: string;
  experienceId: string;
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

/** A winner's identity (draw and consumer), for maps and rounds. */
export const winnerKey = (drawId: string, consumerId: string) =>
  JSON.stringify([drawId, consumerId]);

/** The status a row's facts give: claimed beats expired beats pending. */
function statusOf(claimed: boolean, expired: boolean): DrawWinnerStatus {
  if (claimed) return "claimed";
  return expired ? "expired" : "pending_claim";
}

/**
 * Merges events' facts into the winners' rows, one multi-row statement per round ({@link inRounds}
 * by draw and consumer: a winner named twice is merged twice, in the order given, as one event at
 * a time would). Each fact only fills the columns it knows, instants merge with LEAST, and the
 * status is derived from the merged facts (claimed beats expired beats pending), so the rows end
 * the same whatever order the events arrive in. Answers, for each item in the order given, the
 * winner's status as that item's merge left it.
 */
export async function mergeWinners(
  tx: Transaction<Database>,
  winners: readonly WinnerFacts[],
  tokenSource: TokenSource,
): Promise<DrawWinnerStatus[]> {
  const after: DrawWinnerStatus[] = [];
  const indexed = winners.map((winner, index) => ({ winner, index }));
  for (const round of inRounds(indexed, ({ winner }) =>
    winnerKey(winner.drawId, winner.consumerId),
  )) {
    const rows = await tx
      .insertInto("draw_winners")
      .values(
        round.map(({ winner }) => {
          const claimedAt = winner.claimedAt ?? null;
          const expiredAt = winner.expiredAt ?? null;
          return {
            draw_id: winner.drawId,
            consumer_id: winner.consumerId,
            experience_id: winner.experienceId,
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
      .returning(["draw_id", "consumer_id", "status"])
      .execute();
    // A round names each winner once, so its rows map back to its items by key.
    const byKey = new Map(rows.map((row) => [winnerKey(row.draw_id, row.consumer_id), row.status]));
    for (const { winner, index } of round) {
      const status = byKey.get(winnerKey(winner.drawId, winner.consumerId));
      if (status === undefined) throw new Error("a winner upsert returned no row");
      after[index] = status;
    }
  }
  return after;
}
