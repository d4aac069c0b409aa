import { familyQueueNames } from "@fanfare-relay/events/families";
import { connectTestRedis } from "@fanfare-relay/testing/redis";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { FetchWatchdog, type StallInfo } from "../src/fetch-watchdog.ts";
import { buildHealthServer } from "../src/health-server.ts";
import { createWorkerHarness, sampleEvent, type WorkerHarness } from "../src/testing/harness.ts";
import { readinessProblems, stalledProblem } from "../src/worker-readiness.ts";
import { stubHandlers } from "./stub-handlers.ts";

const SECOND = 1_000;

/** A watchdog on a fake clock, every input a variable the test sets; checks are run by hand. */
function fakeWatchdog() {
  const state = {
    now: 0,
    waiting: 3 as number | Error,
    busy: false,
    taking: true,
    stalls: [] as StallInfo[],
  };
  const watchdog = new FetchWatchdog({
    intervalMs: 10 * SECOND,
    stallAfterMs: 60 * SECOND,
    waitingJobs: async () => {
      if (state.waiting instanceof Error) throw state.waiting;
      return Promise.resolve(state.waiting);
    },
    busy: () => state.busy,
    takingJobs: () => state.taking,
    onStall: (info) => state.stalls.push(info),
    now: () => state.now,
  });
  /** Checks every 10 s from the current time up to `untilSeconds`; returns the stalls found. */
  const runUntil = async (untilSeconds: number) => {
    let found = 0;
    while (state.now < untilSeconds * SECOND) {
      state.now += 10 * SECOND;
      if (await watchdog.check()) found += 1;
    }
    return found;
  };
  return { state, watchdog, runUntil };
}

describe("guarantee: the fetch watchdog calls a worker stalled only when jobs wait, it has room and starts none", () => {
  it("3 jobs waiting, nothing started, checks every 10 s for 3 min → 1 stall, at 60 s, idle 60 s", async () => {
    const { state, watchdog, runUntil } = fakeWatchdog();
    expect(await runUntil(50)).toBe(0);
    expect(await runUntil(60)).toBe(1);
    expect(state.stalls).toEqual([{ waiting: 3, idleMs: 60 * SECOND }]);
    expect(watchdog.stalled).toBe(true);
    expect(await runUntil(180)).toBe(0);
    expect(state.stalls).toHaveLength(1);
  });

  it("all slots busy for 2 min, then free → no stall while busy, 1 stall 60 s after the last busy check", async () => {
    const { state, runUntil } = fakeWatchdog();
    state.busy = true;
    expect(await runUntil(120)).toBe(0);
    state.busy = false;
    expect(await runUntil(170)).toBe(0);
    expect(await runUntil(180)).toBe(1);
  });

  it("not taking jobs (paused for a database outage, shutting down) for 5 min → 0 stalls; taking again → 1 stall 60 s later", async () => {
    const { state, runUntil } = fakeWatchdog();
    state.taking = false;
    expect(await runUntil(300)).toBe(0);
    state.taking = true;
    expect(await runUntil(350)).toBe(0);
    expect(await runUntil(370)).toBe(1);
  });

  it("a job started every 50 s for 5 min → 0 stalls; none after → 1 stall 60 s after the last one", async () => {
    const { state, watchdog, runUntil } = fakeWatchdog();
    for (let at = 50; at <= 300; at += 50) {
      expect(await runUntil(at - 5)).toBe(0);
      state.now = at * SECOND;
      watchdog.jobStarted();
    }
    expect(await runUntil(350)).toBe(0);
    expect(await runUntil(360)).toBe(1);
    expect(state.stalls).toEqual([{ waiting: 3, idleMs: 60 * SECOND }]);
  });

  it("waitingJobs rejects (Redis down) for 5 min → 0 stalls; answers again → 1 stall only 60 s later", async () => {
    const { state, runUntil } = fakeWatchdog();
    state.waiting = new Error("Connection is closed.");
    expect(await runUntil(300)).toBe(0);
    state.waiting = 3;
    expect(await runUntil(350)).toBe(0);
    expect(await runUntil(360)).toBe(1);
  });

  it("waitingJobs answers 3 only after 5 min (commands queued while Redis was away) → 0 stalls; 1 stall 60 s later", async () => {
    let answer: ((waiting: number) => void) | undefined;
    const stalls: StallInfo[] = [];
    let now = 0;
    const watchdog = new FetchWatchdog({
      intervalMs: 10 * SECOND,
      stallAfterMs: 60 * SECOND,
      // The first answer is held back; later ones come at once.
      waitingJobs: async () =>
        new Promise<number>((resolve) => {
          if (answer === undefined) answer = resolve;
          else resolve(3);
        }),
      busy: () => false,
      takingJobs: () => true,
      onStall: (info) => stalls.push(info),
      now: () => now,
    });
    now = 10 * SECOND;
    const pending = watchdog.check();
    now = 20 * SECOND;
    // A check while the first is unanswered does not start another.
    expect(await watchdog.check()).toBe(false);
    now = 310 * SECOND;
    answer?.(3);
    expect(await pending).toBe(false);
    for (now = 320 * SECOND; now <= 360 * SECOND; now += 10 * SECOND) {
      expect(await watchdog.check()).toBe(false);
    }
    now = 370 * SECOND;
    expect(await watchdog.check()).toBe(true);
    expect(stalls).toEqual([{ waiting: 3, idleMs: 370 * SECOND }]);
  });

  it("nothing waiting for 5 min, then 1 job waits → 0 stalls until it has waited 60 s", async () => {
    const { state, runUntil } = fakeWatchdog();
    state.waiting = 0;
    expect(await runUntil(300)).toBe(0);
    state.waiting = 1;
    expect(await runUntil(350)).toBe(0);
    expect(await runUntil(360)).toBe(1);
  });
});

let h: WorkerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness worker whose watchdog checks every 200 ms and calls 1.5 s without a start a stall. */
async function watchedHarness() {
  const stalls: StallInfo[] = [];
  let onStall!: () => void;
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  h = await createWorkerHarness("experience", stubHandlers({ failures: 0, runs: 0 }), {
    stallAfterMs: 1_500,
    stallCheckIntervalMs: 200,
    onStall: (info) => {
      stalls.push(info);
      onStall();
    },
  });
  return { t: h, stalls, stalled };
}

describe("fault: a worker's fetch loop stops taking jobs without a word (a Redis client that never reconnected)", () => {
  it("loop paused behind the intake's back, 3 events enqueued → 1 stall (3 waiting), 1 worker_stalled error line, /healthz and /readyz 503 WORKER_STALLED", async () => {
    const { t, stalls, stalled } = await watchedHarness();
    await t.deliver(sampleEvent("experience.started"));
    // The hang: BullMQ's loop ends while the worker is meant to take jobs. Its blocked fetch is
    // woken (as JobIntake does) so that it does not take the next job.
    await t.worker.worker.pause(true);
    const redis = connectTestRedis();
    const marker = t.worker.worker.keys.marker;
    if (marker !== undefined) await redis.zadd(marker, 0, "0");
    await waitUntil(async () => Promise.resolve(!t.worker.isRunning()));
    await redis.quit();
    for (let index = 0; index < 3; index += 1) {
      await t.producer.enqueue(sampleEvent("experience.started"));
    }

    await stalled;
    expect(stalls).toHaveLength(1);
    expect(stalls[0]?.waiting).toBe(3);
    expect(stalls[0]?.idleMs).toBeGreaterThanOrEqual(1_500);
    expect(t.worker.isStalled()).toBe(true);
    const alerts = t.logs.filter((line) => line.alert === "worker_stalled");
    expect(alerts).toEqual([
      expect.objectContaining({
        level: 50,
        queue: familyQueueNames.experience,
        waiting: 3,
        msg: expect.stringMatching(
          /^worker stopped taking jobs: 3 waiting, none started for \d+ s; restarting$/,
        ) as unknown,
      }),
    ]);

    // The health server as runWorkerApp wires it: both probes answer the stall.
    const health = buildHealthServer({
      isHealthy: () => true,
      livenessProblems: () => (t.worker.isStalled() ? [stalledProblem] : []),
      readinessProblems: () =>
        readinessProblems({
          shuttingDown: false,
          redisStatus: "ready",
          database: { status: "reachable" },
          eviction: { status: "safe", policy: "noeviction" },
          allowEviction: false,
          stalled: t.worker.isStalled(),
        }),
      registry: new Registry(),
    });
    try {
      for (const path of ["/healthz", "/readyz"]) {
        const response = await health.inject({ method: "GET", url: path });
        expect(response.statusCode).toBe(503);
        expect(response.json()).toMatchObject({ code: "WORKER_STALLED" });
      }
    } finally {
      await health.close();
    }
  });
});

describe("guarantee: a worker that takes jobs as they come is never called stalled", () => {
  it("events delivered one after another for 4 s (2.7 × the 1.5 s stall timeout) → all completed, 0 stalls", async () => {
    const { t, stalls } = await watchedHarness();
    const until = Date.now() + 4_000;
    let delivered = 0;
    while (Date.now() < until) {
      const job = await t.deliver(sampleEvent("experience.started"));
      expect(await job.getState()).toBe("completed");
      delivered += 1;
    }
    expect(delivered).toBeGreaterThan(10);
    expect(stalls).toEqual([]);
    expect(t.worker.isStalled()).toBe(false);
    expect(t.logs.filter((line) => line.alert === "worker_stalled")).toEqual([]);
  });
});
