// Samples the five family queues once a second while a run goes on: how many jobs wait or run
// in each, and how long the oldest event not yet applied has been queued (now minus the
// timestamp BullMQ gave its job when the ingest added it).
import { families, familyQueueNames, type Family } from "@fanfare-relay/events/families";
import type { Redis } from "ioredis";
import { performance } from "node:perf_hooks";
import { queueKeyBase } from "@fanfare-relay/queues/queue-keys";

export interface LagSample {
  /** Seconds since the sampler started. */
  atSeconds: number;
  /** Waiting + active jobs per family. */
  backlog: Record<Family, number>;
  /** Jobs waiting for a retry (delayed), all queues. */
  delayed: number;
  /** Completed and failed jobs, all queues. */
  completed: number;
  failed: number;
  /** Age of the oldest job waiting, running or delayed (retry pending), ms; 0 when none. */
  oldestUnappliedMs: number;
  /** The same without delayed jobs: how far behind the workers are on first attempts. */
  oldestQueuedMs: number;
}

/** Jobs the oldest-age probe looks at in each queue's delayed set. */
const DELAYED_PROBE = 10;

/** One sample: two pipelined round trips to Redis. */
export async function sampleQueues(
  redis: Redis,
  prefix: string,
  atSeconds: number,
): Promise<LagSample> {
  const key = (family: Family, name: string) =>
    `${queueKeyBase(prefix, familyQueueNames[family])}:${name}`;
  const counts = redis.pipeline();
  for (const family of families) {
    counts
      .llen(key(family, "wait"))
      .llen(key(family, "active"))
      .zcard(key(family, "prioritized"))
      .zcard(key(family, "delayed"))
      .zcard(key(family, "completed"))
      .zcard(key(family, "failed"))
      // BullMQ pushes new jobs on the left and workers take from the right: the oldest is last.
      .lindex(key(family, "wait"), -1)
      .lrange(key(family, "active"), 0, -1)
      .zrange(key(family, "delayed"), 0, DELAYED_PROBE - 1);
  }
  const results = ((await counts.exec()) ?? []).map(([error, value]) => {
    if (error !== null) throw error;
    return value;
  });
  const sample: LagSample = {
    atSeconds,
    backlog: Object.fromEntries(families.map((family) => [family, 0])) as Record<Family, number>,
    delayed: 0,
    completed: 0,
    failed: 0,
    oldestUnappliedMs: 0,
    oldestQueuedMs: 0,
  };
  const candidates: { family: Family; id: string; delayed: boolean }[] = [];
  families.forEach((family, index) => {
    const [wait, active, prioritized, delayed, completed, failed, oldest, running, retrying] =
      results.slice(index * 9, index * 9 + 9);
    sample.backlog[family] = Number(wait) + Number(active) + Number(prioritized);
    sample.delayed += Number(delayed);
    sample.completed += Number(completed);
    sample.failed += Number(failed);
    const queued = [...(typeof oldest === "string" ? [oldest] : []), ...(running as string[])];
    for (const id of queued) candidates.push({ family, id, delayed: false });
    for (const id of retrying as string[]) candidates.push({ family, id, delayed: true });
  });
  if (candidates.length > 0) {
    const stamps = redis.pipeline();
    for (const { family, id } of candidates) stamps.hget(key(family, id), "timestamp");
    const now = Date.now();
    const stamped = (await stamps.exec()) ?? [];
    stamped.forEach(([error, stamp], index) => {
      // A job removed between the two round trips is not unapplied.
      if (error !== null || stamp === null) return;
      const age = now - Number(stamp);
      sample.oldestUnappliedMs = Math.max(sample.oldestUnappliedMs, age);
      if (candidates[index]?.delayed === false) {
        sample.oldestQueuedMs = Math.max(sample.oldestQueuedMs, age);
      }
    });
  }
  return sample;
}

/** Samples every `intervalMs` until stopped; `samples` grows as it goes. */
export class LagSampler {
  readonly samples: LagSample[] = [];
  /** Samples that failed (Redis error); the first one is printed. */
  errors = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly startedAt = performance.now();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.inFlight = this.inFlight
        .then(async () => {
          const atSeconds = (performance.now() - this.startedAt) / 1000;
          this.samples.push(await sampleQueues(this.redis, this.prefix, atSeconds));
        })
        .catch((error: unknown) => {
          this.errors += 1;
          if (this.errors === 1) console.error("queue sample failed:", error);
        });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }
}
