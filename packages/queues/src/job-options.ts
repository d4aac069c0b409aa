import type { JobsOptions } from "bullmq";
import { MAX_ATTEMPTS, RETRY_BACKOFF_TYPE } from "./retry-schedule.ts";

/**
 * Completed jobs are the ingest's memory of which events it has seen: they must outlive the
 * sender's whole retry span (about 10.6 h) by a wide margin, or a late redelivery becomes a
 * second job.
 */
export const DEFAULT_COMPLETED_RETENTION_SECONDS = 7 * 24 * 60 * 60;
/** The shortest retention accepted: one day still covers the sender's retry span. */
export const MIN_COMPLETED_RETENTION_SECONDS = 24 * 60 * 60;

export interface RetentionOptions {
  completedRetentionSeconds?: number;
  /** Omit to keep failed jobs until an operator deals with them. */
  failedRetentionSeconds?: number;
}

export function defaultJobOptions({
  completedRetentionSeconds = DEFAULT_COMPLETED_RETENTION_SECONDS,
  failedRetentionSeconds,
}: RetentionOptions = {}): JobsOptions {
  return {
    attempts: MAX_ATTEMPTS,
    backoff: { type: RETRY_BACKOFF_TYPE },
    removeOnComplete: { age: completedRetentionSeconds },
    removeOnFail: failedRetentionSeconds === undefined ? false : { age: failedRetentionSeconds },
  };
}
