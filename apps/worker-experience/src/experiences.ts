import type { Database, ExperienceStatus } from "@fanfare-relay/db/schema";
import { sql, type Transaction } from "kysely";

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

/**
 * Merges one event's facts into the experience. Each event only fills the columns it knows, with
 * merges that give the same result in any order (LEAST/GREATEST, the latest pause's reason, a sum
 * of the resumes' durations), and the status is derived from the merged columns.
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
        started_at: eb.fn<Date | null>("least", ["excluded.started_at", "experiences.started_at"]),
        paused_at: eb.fn<Date | null>("greatest", ["excluded.paused_at", "experiences.paused_at"]),
        resumed_at: eb.fn<Date | null>("greatest", [
          "excluded.resumed_at",
          "experiences.resumed_at",
        ]),
        // It ended when it first ended; a repeated end report does not move it.
        ended_at: eb.fn<Date | null>("least", ["excluded.ended_at", "experiences.ended_at"]),
      })),
    )
    .execute();
  await tx
    .updateTable("experiences")
    .set({
      status: sql<ExperienceStatus>`CASE
        WHEN ended_at IS NOT NULL THEN 'ended'
        WHEN paused_at IS NOT NULL AND (resumed_at IS NULL OR paused_at > resumed_at)
          THEN 'paused'
        WHEN started_at IS NOT NULL OR resumed_at IS NOT NULL THEN 'live'
        ELSE 'scheduled' END`,
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", experienceId)
    .execute();
}
