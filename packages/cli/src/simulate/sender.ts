import { MAX_ATTEMPTS, retryDelayMs } from "@fanfare-relay/queues/retry-schedule";
import { setTimeout as sleep } from "node:timers/promises";
import { postEvent, type PostResult, type PostTarget } from "../send/post-event.ts";

export interface SenderOptions extends PostTarget {
  /** Multiplies the retry schedule's waits: 1 is the real 1 min, 5 min, 30 min, 2 h, 8 h. */
  timeScale: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** Replaces the HTTP call (tests of the schedule itself). */
  post?: (event: unknown, target: PostTarget) => Promise<PostResult>;
}

export interface Attempt extends PostResult {
  /** When the attempt started (ms since the epoch). */
  at: number;
}

export interface DeliveryReport<E> {
  event: E;
  attempts: Attempt[];
  /** A 2xx was received: the ingest has the event. */
  delivered: boolean;
  /** The 2xx said `"duplicate":true`. */
  duplicate: boolean;
}

export interface SenderStats {
  deliveries: number;
  attempts: number;
  retries: number;
  delivered: number;
  /** Deliveries that never got a 2xx in all their attempts. */
  failed: number;
  answeredDuplicate: number;
  /** Answers per status ("200", "503", … or "no answer"). */
  answers: Record<string, number>;
  elapsedMs: number;
}

function saysDuplicate(body: string): boolean {
  try {
    return (JSON.parse(body) as { duplicate?: unknown }).duplicate === true;
  } catch {
    return false;
  }
}

/**
 * One delivery as Fanfare makes it: up to 6 attempts, waiting 1 min, 5 min, 30 min, 2 h and 8 h
 * (times `timeScale`) after a non-2xx answer, a timeout or a connection error.
 */
export async function deliverWithRetries<E>(
  event: E,
  options: SenderOptions,
): Promise<DeliveryReport<E>> {
  const post = options.post ?? postEvent;
  const attempts: Attempt[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const at = Date.now();
    const result = await post(event, options);
    attempts.push({ ...result, at });
    if (result.ok)
      return { event, attempts, delivered: true, duplicate: saysDuplicate(result.body) };
    const delay = retryDelayMs(attempt, options.timeScale);
    if (delay < 0) break;
    await sleep(delay);
  }
  return { event, attempts, delivered: false, duplicate: false };
}

/** Delivers the plan in its order, `concurrency` at a time, each with its own retries. */
export async function deliverAll<E>(
  plan: readonly E[],
  options: SenderOptions,
): Promise<{ reports: DeliveryReport<E>[]; stats: SenderStats }> {
  const started = Date.now();
  const reports: DeliveryReport<E>[] = new Array<DeliveryReport<E>>(plan.length);
  let next = 0;
  const lane = async () => {
    while (next < plan.length) {
      const index = next;
      next += 1;
      reports[index] = await deliverWithRetries(plan[index] as E, options);
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 10, plan.length));
  await Promise.all(Array.from({ length: lanes }, lane));

  const answers: Record<string, number> = {};
  for (const attempt of reports.flatMap((report) => report.attempts)) {
    const key = attempt.status === undefined ? "no answer" : String(attempt.status);
    answers[key] = (answers[key] ?? 0) + 1;
  }
  const attempts = reports.reduce((sum, report) => sum + report.attempts.length, 0);
  const delivered = reports.filter((report) => report.delivered).length;
  return {
    reports,
    stats: {
      deliveries: reports.length,
      attempts,
      retries: attempts - reports.length,
      delivered,
      failed: reports.length - delivered,
      answeredDuplicate: reports.filter((report) => report.duplicate).length,
      answers,
      elapsedMs: Date.now() - started,
    },
  };
}
