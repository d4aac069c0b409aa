import type { AdmissionStatus, Database } from "@fanfare-relay/db/schema";
import { sql, type Transaction } from "kysely";

export interface AdmissionFacts {
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

/**
 * Merges one event's facts into the admission, in one statement. Each event only fills the columns
 * it knows, and the status is derived from the merged columns (completed beats expired beats
 * active), so the row ends the same whatever order the events arrive in.
 */
export async function mergeAdmission(
  tx: Transaction<Database>,
  experienceId: string,
  consumerId: string,
  facts: AdmissionFacts,
): Promise<AdmissionState> {
  return tx
    .insertInto("admissions")
    .values({
      experience_id: experienceId,
      consumer_id: consumerId,
      status:
        facts.completedAt !== undefined
          ? "completed"
          : facts.expiredAt !== undefined
            ? "expired"
            : "active",
      distribution_id: facts.distributionId ?? null,
      token: facts.token ?? null,
      admitted_at: facts.admittedAt ?? null,
      expires_at: facts.expiresAt ?? null,
      completed_at: facts.completedAt ?? null,
      expired_at: facts.expiredAt ?? null,
      order_id: facts.orderId ?? null,
      position: facts.position ?? null,
      wait_seconds: facts.waitSeconds ?? null,
    })
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
    .returning(["status", "expires_at"])
    .executeTakeFirstOrThrow();
}
