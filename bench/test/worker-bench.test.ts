import { testRedisUrl } from "@fanfare-relay/testing/redis";
import { describe, expect, it } from "vitest";
import { drawEventMix } from "../src/draw-event-mix.ts";
import { queueEventMix } from "../src/queue-event-mix.ts";
import { runWorkerBench } from "../src/run-worker-bench.ts";

describe("queueEventMix", () => {
  it("makes exactly the events asked for, each id once, every admission ended", () => {
    const mix = queueEventMix(1_001);
    expect(mix.events).toHaveLength(1_001);
    expect(new Set(mix.events.map((event) => event.id)).size).toBe(1_001);
    const count = (type: string) => mix.events.filter((event) => event.type === type).length;
    expect(count("queue.consumer_entered")).toBe(mix.consumers.length);
    expect(count("queue.consumer_admitted")).toBe(mix.admitted);
    expect(count("queue.admission_completed") + count("queue.admission_expired")).toBe(
      1_001 - mix.consumers.length - mix.admitted,
    );
    expect(mix.admitted / mix.consumers.length).toBeCloseTo(0.4, 1);
  });
});

describe("drawEventMix", () => {
  it("makes exactly the draw events asked for, each id once, every winner claimed or expired", () => {
    const mix = drawEventMix(2_500);
    expect(mix.events).toHaveLength(2_500);
    expect(new Set(mix.events.map((event) => event.id)).size).toBe(2_500);
    expect(mix.events.every((event) => event.type.startsWith("draw."))).toBe(true);
    const ofType = (type: string) => mix.events.filter((event) => event.type === type);
    const winners = ofType("draw.winners_selected").flatMap(
      (event) => event.data.winners as unknown[],
    );
    expect(winners.length).toBeGreaterThan(0);
    expect(ofType("draw.prize_claimed").length + ofType("draw.prize_expired").length).toBe(
      winners.length,
    );
  });
});

// Small runs of the benchmark itself: the queue drains and every check it makes passes.
describe("runWorkerBench", () => {
  it("drains a pre-filled queue with the real handlers in this process", async () => {
    const result = await runWorkerBench({
      events: 300,
      workers: 1,
      concurrency: 5,
      fork: false,
      handlers: "domain",
      redisUrl: testRedisUrl,
    });
    expect(result.problems).toEqual([]);
    expect(result.mailsSent).toBeGreaterThan(0);
    expect(result.eventsPerSecond).toBeGreaterThan(0);
    expect(result.jobMsP99).toBeGreaterThanOrEqual(result.jobMsP50);
  });

  it("drains it with no-op handlers in two worker processes", async () => {
    const result = await runWorkerBench({
      events: 300,
      workers: 2,
      concurrency: 5,
      fork: true,
      handlers: "noop",
      redisUrl: testRedisUrl,
    });
    expect(result.problems).toEqual([]);
    expect(result.mailsSent).toBe(0);
    // The forked workers' CPU is counted, not only this process's.
    expect(result.cpu.bench).toBeGreaterThan(0);
  });
});
