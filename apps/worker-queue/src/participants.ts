import type { Database } from "@fanfare-relay/db/schema";
import { inRounds } from "@fanfare-relay/worker/rounds";
import { sql, type Transaction } from "kysely";
import { admissionKey } from "./admissions.ts";

/** What one entry or exit says about a consumer's place in an experience's queue. */
export interface ParticipantFacts {
  experienceId: string;
  consumerId: string;
  distributionId?: string | undefined;
  entered?: { position: number; at: string };
  left?: { at: string; reason: string | null };
}

/**
 * Merges entries and exits into `queue_participants`, one statement per round (inRounds). The
 * latest entry's position and the latest exit's reason stand, whatever the arrival order; a
 * fact an event does not carry is inserted as NULL, which no merge prefers over a stored value,
 * so left before entered still leaves one row with both facts.
 */
export async function mergeParticipants(
  tx: Transaction<Database>,
  items: readonly ParticipantFacts[],
): Promise<void> {
  const rounds = inRounds(items, (facts) => admissionKey(facts.experienceId, facts.consumerId));
  for (const round of rounds) {
    await tx
      .insertInto("queue_participants")
      .values(
        round.map((facts) => ({
          experience_id: facts.experienceId,
          consumer_id: facts.consumerId,
          distribution_id: facts.distributionId ?? null,
          position: facts.entered?.position ?? null,
          entered_at: facts.entered?.at ?? null,
          left_at: facts.left?.at ?? null,
          left_reason: facts.left?.reason ?? null,
        })),
      )
      .onConflict((conflict) =>
        conflict.columns(["experience_id", "consumer_id"]).doUpdateSet((eb) => ({
          distribution_id: eb.fn.coalesce(
            "excluded.distribution_id",
            "queue_participants.distribution_id",
          ),
          position: sql<number | null>`CASE WHEN excluded.entered_at IS NOT NULL
            AND (queue_participants.entered_at IS NULL
              OR excluded.entered_at >= queue_participants.entered_at)
            THEN excluded.position ELSE queue_participants.position END`,
          entered_at: sql<Date>`GREATEST(excluded.entered_at, queue_participants.entered_at)`,
          left_reason: sql<string | null>`CASE WHEN excluded.left_at IS NOT NULL
            AND (queue_participants.left_at IS NULL
              OR excluded.left_at >= queue_participants.left_at)
            THEN excluded.left_reason ELSE queue_participants.left_reason END`,
          left_at: sql<Date>`GREATEST(excluded.left_at, queue_participants.left_at)`,
        })),
      )
      .execute();
  }
}
