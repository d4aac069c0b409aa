import { familyQueueNames } from "@fanfare-relay/events/families";
import { queueKeyBase } from "@fanfare-relay/queues/queue-keys";
import { parseNodeList, type RedisTarget } from "@fanfare-relay/queues/redis-target";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisCluster, type RedisCluster } from "@fanfare-relay/testing/redis-cluster";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWorkerHarness, sampleEvent, type WorkerHarness } from "../src/testing/harness.ts";
import { stubHandlers, type StubControl } from "./stub-handlers.ts";

const hasRedisServer = hasRedisBinaries();

let cluster: RedisCluster | undefined;
let target: RedisTarget;
beforeAll(async () => {
  if (!hasRedisServer) return;
  const started = await startRedisCluster();
  cluster = started;
  const nodes = parseNodeList(started.seeds);
  if ("invalid" in nodes) throw new Error(`bad seeds ${started.seeds}`);
  target = { mode: "cluster", nodes };
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

let h: WorkerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** CLUSTER KEYSLOT, asked of the first master. */
async function keySlot(key: string): Promise<number> {
  const admin = new Redis({ port: cluster?.nodes[0]?.port ?? 0, lazyConnect: true });
  try {
    return Number(await admin.call("CLUSTER", "KEYSLOT", key));
  } finally {
    admin.disconnect();
  }
}

const queueName = familyQueueNames.experience;

describe.skipIf(!hasRedisServer)(
  "guarantee: retries and dead letters on a 3-master Redis Cluster",
  () => {
    it("1 event failing 3 times, retry scale 0.001 → completed on attempt 4, ≥ 2.16 s after the first (1, 5 and 30 min scaled), committed once", async () => {
      const control: StubControl = { failures: 3, runs: 0 };
      h = await createWorkerHarness(
        "experience",
        stubHandlers(control),
        { retryTimeScale: 0.001 },
        {
          redis: target,
        },
      );
      const event = sampleEvent("experience.started");

      const job = await h.deliver(event);

      expect(await job.getState()).toBe("completed");
      expect(job.attemptsMade).toBe(4);
      expect((job.finishedOn ?? 0) - job.timestamp).toBeGreaterThanOrEqual(
        (60 + 300 + 1_800) * 1_000 * 0.001,
      );
      expect(control.runs).toBe(1);
      const row = await h.db
        .selectFrom("webhook_events")
        .selectAll()
        .where("event_id", "=", event.id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: "completed", attempts: 4 });
    });

    it("1 event always failing → 6 attempts, 1 dead letter, 1 alert; its queue, marker and failure-rate keys share one slot", async () => {
      const control: StubControl = { failures: Infinity, runs: 0 };
      h = await createWorkerHarness(
        "experience",
        stubHandlers(control),
        { failureAlertThreshold: 0 },
        { redis: target },
      );
      const event = sampleEvent("experience.started");

      const job = await h.deliver(event);

      expect(await job.getState()).toBe("failed");
      expect(job.attemptsMade).toBe(6);
      const letters = await h.db.selectFrom("webhook_dead_letters").selectAll().execute();
      expect(letters.map((letter) => letter.event_id)).toEqual([event.id]);
      expect(h.logs.filter((line) => line.alert === "dead_letter")).toHaveLength(1);
      expect(h.logs.filter((line) => line.alert === "failure_rate")).toHaveLength(1);
      const base = queueKeyBase(h.prefix, queueName);
      const slots = await Promise.all(
        [`${base}:wait`, `${base}:${job.id ?? ""}`, `${base}:seen:x`, `${base}:failure-rate:t`].map(
          keySlot,
        ),
      );
      expect(new Set(slots).size).toBe(1);
    });
  },
);
