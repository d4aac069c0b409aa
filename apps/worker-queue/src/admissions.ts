import type { AdmissionStatus, Database } from "@fanfare-relay/db/schema";
import { inRounds } from "@fanfare-relay/worker/rounds";
import { sql, type Transaction } from "kysely";

export interface AdmissionFacts {
  experienceId: string;
  consumerId: string;
  distributionId?: string | undefined;
  token?: string;
  admittedAt?: string;
  expiresAt?: string;
  completedAt?: string;
  expiredAt?: string;
  orderId?: string | undefined;
  position?: number | undefined;
  waitSeconds?: number | undefined;
}

export interface AdmissionState {
  status: AdmissionStatus;
  expires_at: Date | null;
}

/** Who and where an event of the queue family is about: the fields every one of them carries. */
export const subjectOf = (data: {
  experienceId: string;
  consumerId: string;
  distributionId?: string | undefined;
}) => ({
  experienceId: data.experienceId,
  consumerId: data.consumerId,
  distributionId: data.distributionId,
});

/** An admission's identity, for maps and rounds. */
export const admissionKey = (experienceId: string, consumerId: string) =>
  JSON.stringify([experienceId, consumerId]);

const statusOf = (facts: AdmissionFacts): AdmissionStatus =>
  facts.completedAt !== undefined
    ? "completed"
    : facts.expiredAt !== undefined
      ? "expired"
      : "active";

/**
 * Merges events' facts into their admissions, one statement per round (inRounds: an admission
 * named twice is merged twice, in the order given). Each event only fills the columns it knows,
 * and the status is derived from the merged columns (completed beats expired beats active), so
 * the row ends the same whatever order the events arrive in. Answers, for each item in order,
 * the admission as that item's merge left it.
 */
export async function mergeAdmissions(
  tx: Transaction<Database>,
  items: readonly AdmissionFacts[],
): Promise<AdmissionState[]> {
  const after: AdmissionState[] = [];
  const indexOf = new Map(items.map((facts, index) => [facts, index]));
  for (const round of inRounds(items, (facts) =>
    admissionKey(facts.experienceId, facts.consumerId),
  )) {
    const rows = await tx
      .insertInto("admissions")
      .values(
        round.map((facts) => ({
          experience_id: facts.experienceId,
          consumer_id: facts.consumerId,
          status: statusOf(facts),
          distribution_id: facts.distributionId ?? null,
          token: facts.token ?? null,
          admitted_at: facts.admittedAt ?? null,
          expires_at: facts.expiresAt ?? null,
          completed_at: facts.completedAt ?? null,
          expired_at: facts.expiredAt ?? null,
          order_id: facts.orderId ?? null,
          position: facts.position ?? null,
          wait_seconds: facts.waitSeconds ?? null,
        })),
      )
      .onConflict((conflict) =>
        conflict.columns(["experience_id", "consumer_id"]).doUpdateSet((eb) => ({
          distribution_id: eb.fn.coalesce("excluded.distribution_id", "admissions.distribution_id"),
          token: eb.fn.coalesce("excluded.token", "admissions.token"),
          admitted_at: eb.fn.coalesce("excluded.admitted_at", "admissions.admitted_at"),
          expires_at: eb.fn.coalesce("excluded.expires_at", "admissions.expires_at"),
          completed_at: eb.fn.coalesce("excluded.completed_at", "admissions.completed_at"),
          expired_at: eb.fn.coalesce("excluded.expired_at", "admissions.expired_at"),
          order_id: eb.fn.coalesce("excluded.order_id", "admissions.order_id"),
          position: eb.fn.coalesce("excluded.position", "admissions.position"),
          wait_seconds: eb.fn.coalesce("excluded.wait_seconds", "admissions.wait_seconds"),
          // SET expressions read the row as it was: the status is derived from the merged values.
          status: sql<AdmissionStatus>`CASE
            WHEN COALESCE(excluded.completed_at, admissions.completed_at) IS NOT NULL THEN 'completed'
            WHEN COALESCE(excluded.expired_at, admissions.expired_at) IS NOT NULL THEN 'expired'
            ELSE 'active' END`,
        })),
      )
      .returning(["experience_id", "consumer_id", "status", "expires_at"])
      .execute();
    const byKey = new Map(
      rows.map((row) => [admissionKey(row.experience_id, row.consumer_id), row] as const),
    );
    for (const facts of round) {
      const row = byKey.get(admissionKey(facts.experienceId, facts.consumerId));
      if (row === undefined) throw new Error("an admission upsert returned no row");
      after[indexOf.get(facts) ?? 0] = { status: row.status, expires_at: row.expires_at };
    }
  }
  return after;
}
