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

/**
 * Merges one event's facts into the winners' rows. Each event only fills the columns it knows,
 * instants merge with LEAST, and the status is derived from the stored facts (claimed beats
 * expired beats pending), so the rows end the same whatever order the events arrive in.
 */
export async function mergeWinners(
  tx: Transaction<Database>,
  drawId: string,
  experienceId: string,
  winners: readonly WinnerFacts[],
  tokenSource: TokenSource,
): Promise<WinnerState[]> {
  if (winners.length === 0) return [];
  await tx
    .insertInto("draw_winners")
    .values(
      winners.map((winner) => ({
        draw_id: drawId,
        consumer_id: winner.consumerId,
        experience_id: experienceId,
        status: "pending_claim" as const,
        position: winner.position ?? null,
        claim_token: tokenSource === "none" ? null : (winner.claimToken ?? null),
        claim_deadline: winner.claimDeadline ?? null,
        order_id: winner.orderId ?? null,
        claimed_at: winner.claimedAt ?? null,
        expired_at: winner.expiredAt ?? null,
      })),
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
      })),
    )
    .execute();
  return tx
    .updateTable("draw_winners")
    .set({
      status: sql<DrawWinnerStatus>`CASE
        WHEN claimed_at IS NOT NULL THEN 'claimed'
        WHEN expired_at IS NOT NULL THEN 'expired'
        ELSE 'pending_claim' END`,
    })
    .where("draw_id", "=", drawId)
    .where(
      "consumer_id",
      "in",
      winners.map((winner) => winner.consumerId),
    )
    .returning(["consumer_id", "status"])
    .execute();
}
