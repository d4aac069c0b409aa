/**
 * The sender's own retry schedule: attempt 1 immediately, then waits of 1 min, 5 min, 30 min,
 * 2 h and 8 h. Workers retry on the same rhythm so a downstream outage is ridden out the same way
 * whether the failure happened at the sender or here.
 */
export const RETRY_DELAYS_MS = [60_000, 300_000, 1_800_000, 7_200_000, 28_800_000] as const;

/** From the first attempt to the last: about 10.6 h. */
export const RETRY_SPAN_SECONDS = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0) / 1000;

/** Total attempts: the first plus one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** Name of the custom BullMQ backoff strategy that applies the schedule. */
export const RETRY_BACKOFF_TYPE = "fanfare-schedule";

/**
 * Milliseconds to wait before the next attempt, after `attemptsMade` attempts have failed
 * (BullMQ passes 1 after the first failure). `timeScale` shrinks the schedule for tests and
 * simulations without changing the code path. Returns -1 (BullMQ: do not retry) past the schedule.
 */
export function retryDelayMs(attemptsMade: number, timeScale = 1): number {
  const delay = RETRY_DELAYS_MS[attemptsMade - 1];
  if (delay === undefined || !Number.isInteger(attemptsMade)) return -1;
  return Math.round(delay * timeScale);
}
