import type { Database } from "@fanfare-relay/db/schema";
import type { Kysely } from "kysely";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { planDeliveries } from "./delivery-plan.ts";
import { generateDrop, type Drop } from "./drop.ts";
import { countLanded, countPendingMails, countSettled, type Landed } from "./landed.ts";
import { createRandom } from "./random.ts";
import { deliverAll, type SenderStats } from "./sender.ts";
import { judge, type Verdict } from "./verdict.ts";

export interface SimulationOptions {
  db: Kysely<Database>;
  url: string;
  secret: string;
  consumers: number;
  seed: number;
  /** Scales the sender's retry schedule (0.001: 1 min → 60 ms, 8 h → 28.8 s). */
  timeScale: number;
  /** Fraction of the events delivered twice. */
  duplicates: number;
  /** Deliveries are shuffled within windows of this many. */
  window?: number;
  concurrency?: number;
  requestTimeoutMs?: number;
  /** How long to wait for the workers once everything is delivered. */
  waitTimeoutMs?: number;
  pollMs?: number;
  runId?: string;
  now?: Date;
  onProgress?: (line: string) => void;
}

export interface Settling {
  /** Delivered events (a 2xx) that must reach a final state. */
  awaited: number;
  settled: number;
  pendingMails: number;
  timedOut: boolean;
  waitedMs: number;
}

export interface SimulationResult {
  drop: Drop;
  stats: SenderStats;
  settling: Settling;
  landed: Landed;
  verdict: Verdict;
}

/** Generates a drop, delivers it like Fanfare, waits for the workers and judges what landed. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const { db, seed, waitTimeoutMs = 60_000, pollMs = 100 } = options;
  const drop = generateDrop({
    consumers: options.consumers,
    seed,
    runId: options.runId ?? randomBytes(4).toString("hex"),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  // Its own stream, so the same seed gives the same drop whatever the delivery settings.
  const plan = planDeliveries(drop.events, {
    duplicates: options.duplicates,
    window: options.window ?? 10,
    random: createRandom(seed ^ 0x5eed),
  });
  options.onProgress?.(
    `delivering ${plan.length} deliveries (${drop.events.length} events, ` +
      `${plan.length - drop.events.length} duplicates) to ${options.url}`,
  );
  const { reports, stats } = await deliverAll(plan, {
    url: options.url,
    secret: options.secret,
    timeScale: options.timeScale,
    concurrency: options.concurrency ?? 10,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
  });

  // Completed is committed before the event's mails go out: wait for those too.
  const awaited = new Set(reports.filter((r) => r.delivered).map((r) => r.event.id)).size;
  options.onProgress?.(`waiting for the workers (${awaited} events, at most ${waitTimeoutMs} ms)`);
  const started = Date.now();
  let settled = await countSettled(db, drop);
  let pendingMails = await countPendingMails(db, drop);
  while ((settled < awaited || pendingMails > 0) && Date.now() - started < waitTimeoutMs) {
    await sleep(pollMs);
    settled = await countSettled(db, drop);
    pendingMails = await countPendingMails(db, drop);
  }
  const settling: Settling = {
    awaited,
    settled,
    pendingMails,
    timedOut: settled < awaited || pendingMails > 0,
    waitedMs: Date.now() - started,
  };
  const landed = await countLanded(db, drop);
  return { drop, stats, settling, landed, verdict: judge(drop, reports, landed) };
}
