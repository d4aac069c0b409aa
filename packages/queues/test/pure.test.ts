import { describe, expect, it } from "vitest";
import { eventIdForJob, jobIdForEvent } from "../src/job-id.ts";
import { DEFAULT_COMPLETED_RETENTION_SECONDS, defaultJobOptions } from "../src/job-options.ts";
import {
  MAX_ATTEMPTS,
  RETRY_BACKOFF_TYPE,
  RETRY_SPAN_SECONDS,
  retryDelayMs,
} from "../src/retry-schedule.ts";
import { routeEventType } from "../src/routing.ts";

describe("retry schedule", () => {
  it("waits 1 min, 5 min, 30 min, 2 h, 8 h: six attempts in all", () => {
    expect([1, 2, 3, 4, 5].map((attempts) => retryDelayMs(attempts))).toEqual([
      60_000, 300_000, 1_800_000, 7_200_000, 28_800_000,
    ]);
    expect(MAX_ATTEMPTS).toBe(6);
    expect(RETRY_SPAN_SECONDS).toBe(38_160);
  });

  it("stops after the schedule and on nonsense", () => {
    for (const attempts of [0, 6, 7, 1.5, -1, Number.NaN]) expect(retryDelayMs(attempts)).toBe(-1);
  });

  it("scales for tests without another code path", () => {
    expect(retryDelayMs(1, 0.001)).toBe(60);
    expect(retryDelayMs(5, 0.001)).toBe(28_800);
  });
});

describe("job ids", () => {
  const bullmqAccepts = (id: string) => `${parseInt(id, 10)}` !== id && !id.includes(":");

  it("keeps typical ids verbatim", () => {
    for (const id of ["evt_01HZ0001CONSUMERAU", "evt-1.2", "_x"])
      expect(jobIdForEvent(id)).toBe(id);
  });

  const tricky = [
    "123",
    "0",
    "-5",
    "1e3",
    "12345678901234567890",
    "a:b:c",
    ":",
    "~",
    "~x",
    "%7E",
    "%",
    "with space",
    "évènement",
    "💥",
    "evt_1~",
    "1abc",
    "",
    "~%7E",
  ];

  it("maps every other id to one BullMQ accepts, and back", () => {
    for (const id of tricky) {
      const jobId = jobIdForEvent(id);
      expect(bullmqAccepts(jobId), `${id} → ${jobId}`).toBe(true);
      expect(eventIdForJob(jobId)).toBe(id);
    }
  });

  it("never maps two ids to one job", () => {
    const ids = [...tricky, "evt_1", "~evt_1", "%7Eevt_1", "evt%5F1"];
    expect(new Set(ids.map(jobIdForEvent)).size).toBe(new Set(ids).size);
  });
});

describe("default job options", () => {
  it("retry on the schedule and keep completed jobs a week, failed jobs until dealt with", () => {
    expect(defaultJobOptions()).toEqual({
      attempts: 6,
      backoff: { type: RETRY_BACKOFF_TYPE },
      removeOnComplete: { age: DEFAULT_COMPLETED_RETENTION_SECONDS },
      removeOnFail: false,
    });
    expect(DEFAULT_COMPLETED_RETENTION_SECONDS).toBe(7 * 24 * 3600);
  });

  it("take configured retention", () => {
    expect(
      defaultJobOptions({ completedRetentionSeconds: 86_400, failedRetentionSeconds: 3_600 }),
    ).toMatchObject({
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 3_600 },
    });
  });
});

describe("routing", () => {
  it("sends known types to their family's queue and unknown ones to fanfare-unrouted", () => {
    expect(routeEventType("draw.prize_claimed")).toEqual({
      queueName: "fanfare-draw",
      known: true,
    });
    expect(routeEventType("consumer.linked")).toEqual({
      queueName: "fanfare-consumer",
      known: true,
    });
    expect(routeEventType("loyalty.points_awarded")).toEqual({
      queueName: "fanfare-unrouted",
      known: false,
    });
    expect(routeEventType("__proto__")).toEqual({ queueName: "fanfare-unrouted", known: false });
  });
});
