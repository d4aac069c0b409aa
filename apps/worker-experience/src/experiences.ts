import type { Database, ExperienceStatus } from "@fanfare-relay/db/schema";
import { sql, type Expression, type Transaction } from "kysely";

export interface ExperienceFacts {
  type?: string;
  name?: string | undefined;
  startedAt?: string;
  pausedAt?: string;
  pauseReason?: string | undefined;
  resumedAt?: string;
  pausedDurationSeconds?: number | undefined;
  endedAt?: string;
  totalParticipants?: number | undefined;
}

/** The instants an experience's status is derived from. */
interface StatusInstants {
  startedAt: Expression<Date | null>;
  pausedAt: Expression<Date | null>;
  resumedAt: Expression<Date | null>;
  endedAt: Expression<Date | null>;
}

/** Ended beats paused (a pause later than the last resume) beats live beats scheduled. */
function statusOf({ startedAt, pausedAt, resumedAt, endedAt }: StatusInstants) {
  return sql<ExperienceStatus>`CASE
    WHEN ${endedAt} IS NOT NULL THEN 'ended'
    WHEN ${pausedAt} IS NOT NULL AND (${resumedAt} IS NULL OR ${pausedAt} > ${resumedAt})
      THEN 'paused'
    WHEN ${startedAt} IS NOT NULL OR ${resumedAt} IS NOT NULL THEN 'live'
    ELSE 'scheduled' END`;
}

/** An instant as the column stores it (the same timestamptz input, so comparisons agree). */
const instant = (value: string | undefined) =>
  sql<Date | null>`CAST(${value ?? null} AS timestamptz)`;

/**
 * The merged instants in the upsert's DO UPDATE SET. SET reads the row as it was, so the status is
 * derived from these expressions, the very ones the columns are set to.
 */
const merged = {
  startedAt: sql<Date | null>`LEAST(excluded.started_at, experiences.started_at)`,
  pausedAt: sql<Date | null>`GREATEST(excluded.paused_at, experiences.paused_at)`,
  resumedAt: sql<Date | null>`GREATEST(excluded.resumed_at, experiences.resumed_at)`,
  // It ended when it first ended; a repeated end report does not move it.
  endedAt: sql<Date | null>`LEAST(excluded.ended_at, experiences.ended_at)`,
} satisfies StatusInstants;

/**
 * Merges one event's facts into the experience, in one statement. Each event only fills the
 * columns it knows, with merges that give the same result in any order (LEAST/GREATEST, the
 * latest pause's reason, a sum of the resumes' durations), and the status is derived from the
 * merged columns.
 */
export async function mergeExperience(
  tx: Transaction<Database>,
  experienceId: string,
  facts: ExperienceFacts,
): Promise<void> {
  await tx
    .insertInto("experiences")
    .values({
      id: experienceId,
      // A new row holds only this event's facts, so they alone give its status.
      status: statusOf({
        startedAt: instant(facts.startedAt),
        pausedAt: instant(facts.pausedAt),
        resumedAt: instant(facts.resumedAt),
        endedAt: instant(facts.endedAt),
      }),
      type: facts.type ?? null,
      name: facts.name ?? null,
      pause_reason: facts.pauseReason ?? null,
      paused_duration_seconds: facts.pausedDurationSeconds ?? 0,
      total_participants: facts.totalParticipants ?? null,
      started_at: facts.startedAt ?? null,
      paused_at: facts.pausedAt ?? null,
      resumed_at: facts.resumedAt ?? null,
      ended_at: facts.endedAt ?? null,
    })
    .onConflict((conflict) =>
      conflict.column("id").doUpdateSet((eb) => ({
        // Should two starts disagree, the earliest one's type and name win, whatever the order.
        type: sql<string | null>`CASE
          WHEN experiences.started_at IS NULL OR excluded.started_at <= experiences.started_at
          THEN COALESCE(excluded.type, experiences.type)
          ELSE COALESCE(experiences.type, excluded.type) END`,
        name: sql<string | null>`CASE
          WHEN experiences.started_at IS NULL OR excluded.started_at <= experiences.started_at
          THEN COALESCE(excluded.name, experiences.name)
          ELSE COALESCE(experiences.name, excluded.name) END`,
        // The latest pause's reason, even when it has none: an older pause must not bring its back.
        pause_reason: sql<string | null>`CASE
          WHEN excluded.paused_at IS NOT NULL
            AND (experiences.paused_at IS NULL OR excluded.paused_at >= experiences.paused_at)
          THEN excluded.pause_reason
          ELSE experiences.pause_reason END`,
        // A sum is safe only because the claim applies each resume exactly once.
        paused_duration_seconds: sql<number>`experiences.paused_duration_seconds
          + excluded.paused_duration_seconds`,
        // A participant count only grows: a later recount wins over an earlier one.
        total_participants: eb.fn<number | null>("greatest", [
          "excluded.total_participants",
          "experiences.total_participants",
        ]),
        started_at: merged.startedAt,
        paused_at: merged.pausedAt,
        resumed_at: merged.resumedAt,
        ended_at: merged.endedAt,
        status: statusOf(merged),
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
}
