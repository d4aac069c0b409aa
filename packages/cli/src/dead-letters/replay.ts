import type { Database } from "@fanfare-relay/db/schema";
import { Queue } from "bullmq";
import type { Kysely } from "kysely";
import { errorMessage } from "../with-timeout.ts";
import { markReplayed, type ReplayableLetter } from "./queries.ts";
import { requeueDeadLetter, type RequeueOutcome } from "@fanfare-relay/worker/requeue-dead-letter";
import { bullPrefix } from "@fanfare-relay/queues/queue-keys";
import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";
import { sharedQueueOptions } from "@fanfare-relay/queues/queue-settings";

export type ReplayResult =
  | { eventId: string; queue: string; outcome: RequeueOutcome }
  | { eventId: string; queue: string; outcome: { action: "resolved" } }
  | { eventId: string; queue: string; outcome: { action: "error"; message: string } }
  | { eventId: string; queue?: undefined; outcome: { action: "not-found" } };

export interface ReplayOptions {
  db: Kysely<Database>;
  /** From openRedis: one node, a cluster or Sentinel's primary. */
  redis: RedisConnection;
  prefix: string;
  /** From findLetters. */
  letters: readonly ReplayableLetter[];
  /** The ids the operator named, in their order (an id without a letter is "not found"). */
  eventIds?: readonly string[] | undefined;
  /** Called as each letter is done, so a long replay shows progress. */
  onResult?: (result: ReplayResult) => void;
}

/** Puts dead letters back on their queues, one at a time, and says what happened to each. */
export async function replayDeadLetters({
  db,
  redis,
  prefix,
  letters,
  eventIds,
  onResult,
}: ReplayOptions): Promise<ReplayResult[]> {
  const byEventId = new Map(letters.map((letter) => [letter.event_id, letter]));
  const order: readonly (ReplayableLetter | string)[] =
    eventIds === undefined
      ? letters
      : [...new Set(eventIds)].map((eventId) => byEventId.get(eventId) ?? eventId);

  const queues = new Map<string, Queue>();
  const queueFor = (name: string) => {
    let queue = queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, {
        ...sharedQueueOptions,
        connection: redis,
        prefix: bullPrefix(prefix, name),
      });
      queues.set(name, queue);
    }
    return queue;
  };

  const results: ReplayResult[] = [];
  try {
    for (const entry of order) {
      const result = await replayOne(db, queueFor, entry);
      results.push(result);
      onResult?.(result);
    }
  } finally {
    // The connection is the caller's; closing a queue leaves a shared connection open.
    await Promise.all([...queues.values()].map((queue) => queue.close()));
  }
  return results;
}

async function replayOne(
  db: Kysely<Database>,
  queueFor: (name: string) => Queue,
  entry: ReplayableLetter | string,
): Promise<ReplayResult> {
  if (typeof entry === "string") return { eventId: entry, outcome: { action: "not-found" } };
  const base = { eventId: entry.event_id, queue: entry.queue_name };
  // Its event completed: running it again would change nothing.
  if (entry.resolved_at !== null) return { ...base, outcome: { action: "resolved" } };
  try {
    const outcome = await requeueDeadLetter(queueFor(entry.queue_name), entry);
    if (outcome.action !== "untouched") await markReplayed(db, entry.id);
    return { ...base, outcome };
  } catch (error) {
    return { ...base, outcome: { action: "error", message: errorMessage(error) } };
  }
}

/** One line per letter, for people. */
export function describeReplay(result: ReplayResult): string {
  const where = result.queue === undefined ? "" : ` (${result.queue})`;
  const head = `${result.eventId}${where}:`;
  const { outcome } = result;
  switch (outcome.action) {
    case "retried":
      return `${head} retried (the ${outcome.from} job is waiting again)`;
    case "re-added":
      return `${head} re-added (BullMQ no longer had the job; a new one with the stored payload)`;
    case "untouched":
      return outcome.state === "active"
        ? `${head} already running`
        : outcome.state === "unknown"
          ? `${head} not touched: the job is in no known state`
          : `${head} already waiting (${outcome.state})`;
    case "resolved":
      return `${head} already resolved: its event completed, nothing to replay`;
    case "error":
      return `${head} error: ${outcome.message}`;
    case "not-found":
      return `${head} not found: no dead letter has this event id`;
  }
}
