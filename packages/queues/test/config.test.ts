import { eventCatalogue, eventTypes } from "@fanfare-relay/events/catalogue";
import { allQueueNames } from "@fanfare-relay/events/families";
import { freePort } from "@fanfare-relay/testing/free-port";
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_COMPLETED_RETENTION_SECONDS,
  MIN_COMPLETED_RETENTION_SECONDS,
  defaultJobOptions,
} from "../src/job-options.ts";
import {
  createProducerConnection,
  createWorkerConnection,
  redactRedisUrl,
} from "../src/redis-connection.ts";
import {
  MAX_ATTEMPTS,
  RETRY_BACKOFF_TYPE,
  RETRY_DELAYS_MS,
  RETRY_SPAN_SECONDS,
  retryDelayMs,
} from "../src/retry-schedule.ts";
import { routeEventType } from "../src/routing.ts";

describe("retryDelayMs", () => {
  it.each([
    [1, 60_000],
    [2, 300_000],
    [3, 1_800_000],
    [4, 7_200_000],
    [5, 28_800_000],
  ])("after %i failed attempts waits %i ms", (attemptsMade, delay) => {
    expect(retryDelayMs(attemptsMade)).toBe(delay);
  });

  it.each([6, 0, 1.5, 7, 100, -1, 0.5, 5.0001, Number.NaN, Number.POSITIVE_INFINITY])(
    "gives up (-1) after %d attempts",
    (attemptsMade) => {
      expect(retryDelayMs(attemptsMade)).toBe(-1);
      expect(retryDelayMs(attemptsMade, 0.001)).toBe(-1);
    },
  );

  it("scales every delay by timeScale, rounded to whole milliseconds", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 0.001))).toEqual([
      60, 300, 1_800, 7_200, 28_800,
    ]);
    expect(retryDelayMs(1, 0.00001)).toBe(1);
    expect(retryDelayMs(2, 1 / 3)).toBe(100_000);
    expect(retryDelayMs(1, 2)).toBe(120_000);
  });

  it("allows exactly MAX_ATTEMPTS = 6 attempts: one retry per delay", () => {
    expect(MAX_ATTEMPTS).toBe(6);
    expect(RETRY_DELAYS_MS).toHaveLength(MAX_ATTEMPTS - 1);
    const retries = Array.from({ length: 10 }, (_, i) => retryDelayMs(i + 1)).filter(
      (delay) => delay >= 0,
    );
    expect(retries).toHaveLength(MAX_ATTEMPTS - 1);
    expect(RETRY_SPAN_SECONDS).toBe(60 + 300 + 1_800 + 7_200 + 28_800);
  });
});

describe("defaultJobOptions", () => {
  it("retries six times on the fanfare schedule", () => {
    const options = defaultJobOptions();
    expect(options.attempts).toBe(6);
    expect(options.backoff).toEqual({ type: RETRY_BACKOFF_TYPE });
    expect(RETRY_BACKOFF_TYPE).toBe("fanfare-schedule");
  });

  it("keeps completed jobs 7 days and failed ones until an operator acts, by default", () => {
    expect(defaultJobOptions()).toMatchObject({
      removeOnComplete: { age: 604_800 },
      removeOnFail: false,
    });
    expect(DEFAULT_COMPLETED_RETENTION_SECONDS).toBe(604_800);
    expect(MIN_COMPLETED_RETENTION_SECONDS).toBe(86_400);
    expect(MIN_COMPLETED_RETENTION_SECONDS).toBeGreaterThan(RETRY_SPAN_SECONDS);
  });

  it.each([
    [{ completedRetentionSeconds: 86_400 }, { age: 86_400 }, false],
    [
      { failedRetentionSeconds: 3_600 },
      { age: DEFAULT_COMPLETED_RETENTION_SECONDS },
      { age: 3_600 },
    ],
    [{ failedRetentionSeconds: 0 }, { age: DEFAULT_COMPLETED_RETENTION_SECONDS }, { age: 0 }],
    [{ completedRetentionSeconds: undefined }, { age: DEFAULT_COMPLETED_RETENTION_SECONDS }, false],
  ])("takes %j", (retention, removeOnComplete, removeOnFail) => {
    expect(defaultJobOptions(retention)).toEqual({
      attempts: 6,
      backoff: { type: RETRY_BACKOFF_TYPE },
      removeOnComplete,
      removeOnFail,
    });
  });

  it("returns a fresh object each time", () => {
    const first = defaultJobOptions();
    first.attempts = 1;
    expect(defaultJobOptions().attempts).toBe(6);
  });
});

describe("routeEventType", () => {
  it.each(eventTypes)("routes %s to its family's queue", (type) => {
    const route = routeEventType(type);
    expect(route).toEqual({ queueName: eventCatalogue[type].queueName, known: true });
    expect(route.queueName).toBe(`fanfare-${type.split(".")[0] ?? ""}`);
  });

  it.each([
    "loyalty.points_awarded",
    "",
    "draw",
    "draw.",
    "DRAW.PRIZE_CLAIMED",
    " draw.prize_claimed",
    "draw.prize_claimed ",
    "draw.prize_claimed.v2",
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
  ])("sends %j to fanfare-unrouted", (type) => {
    expect(routeEventType(type)).toEqual({ queueName: "fanfare-unrouted", known: false });
  });

  it("only ever names queues the producer creates", () => {
    for (const type of [...eventTypes, "x.y"]) {
      expect(allQueueNames).toContain(routeEventType(type).queueName);
    }
  });
});

describe("Redis connections", () => {
  it("the producer's fails fast: no offline queue, one retry, auto-pipelining", () => {
    const connection = createProducerConnection("redis://127.0.0.1:1", { lazyConnect: true });
    expect(connection.options).toMatchObject({
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
      lazyConnect: true,
    });
    connection.disconnect();
  });

  it("the worker's waits out outages as BullMQ requires", () => {
    const connection = createWorkerConnection("redis://127.0.0.1:1", { lazyConnect: true });
    expect(connection.options).toMatchObject({
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
    connection.disconnect();
  });

  it("options passed in win over the defaults", () => {
    const connection = createProducerConnection("redis://127.0.0.1:1", {
      lazyConnect: true,
      connectTimeout: 123,
    });
    expect(connection.options.connectTimeout).toBe(123);
    connection.disconnect();
  });

  it("the producer's rejects a command at once while Redis is unreachable", async () => {
    const port = await freePort();
    const connection = createProducerConnection(`redis://127.0.0.1:${port}`);
    connection.on("error", () => undefined);
    try {
      await expect(connection.set("k", "v")).rejects.toThrow(/enableOfflineQueue/);
    } finally {
      connection.disconnect();
    }
  });

  it.each([
    ["redis://:hunter2@host:6379/0", "redis://:***@host:6379/0"],
    ["rediss://user:hunter2@host:6380", "rediss://user:***@host:6380"],
    ["redis://host:6379", "redis://host:6379"],
    ["not a url hunter2", "(unparseable url)"],
  ])("redacts %s", (url, redacted) => {
    expect(redactRedisUrl(url)).toBe(redacted);
    expect(redactRedisUrl(url)).not.toContain("hunter2");
  });
});

describe("connections to a cluster and to Sentinels", () => {
  const nodes = [{ host: "127.0.0.1", port: 1 }];

  it("a cluster producer: no automatic pipelining (it can hang in a failover), fail fast, one retry per node", () => {
    const connection = createProducerConnection({ mode: "cluster", nodes });
    connection.on("error", () => undefined);
    expect(connection).toBeInstanceOf(Cluster);
    if (!(connection instanceof Cluster)) return;
    expect(connection.options).toMatchObject({
      enableAutoPipelining: false,
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    connection.disconnect();
  });

  it("a cluster worker: waits through a failover (spaced MOVED and CLUSTERDOWN retries), BullMQ's maxRetriesPerRequest null", () => {
    const connection = createWorkerConnection({ mode: "cluster", nodes });
    connection.on("error", () => undefined);
    if (!(connection instanceof Cluster)) throw new Error("not a cluster");
    expect(connection.options).toMatchObject({
      enableOfflineQueue: true,
      retryDelayOnMoved: 100,
      redisOptions: { maxRetriesPerRequest: null },
    });
    connection.disconnect();
  });

  it("a Sentinel producer: the master name and Sentinels, auth applied, no failover detector (it can end the client for good)", () => {
    const connection = createProducerConnection(
      {
        mode: "sentinel",
        sentinels: nodes,
        masterName: "fanfare",
        auth: { password: "pw" },
        sentinelPassword: "spw",
      },
      { lazyConnect: true },
    );
    if (!(connection instanceof Redis)) throw new Error("not one client");
    expect(connection.options).toMatchObject({
      name: "fanfare",
      password: "pw",
      sentinelPassword: "spw",
      enableAutoPipelining: true,
    });
    expect(connection.options.failoverDetector).toBeFalsy();
    connection.disconnect();
  });
});
