import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisSentinel, type RedisSentinelSetup } from "@fanfare-relay/testing/redis-sentinel";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { effectCounts, waitForCompleted } from "../src/applied-events.ts";
import { startDeliveryLoad } from "../src/delivery-load.ts";
import { startRelayProcesses, type RelayProcesses } from "../src/relay-processes.ts";

const hasRedisServer = hasRedisBinaries();

let sentinel: RedisSentinelSetup | undefined;
let database: TestDatabase | undefined;
let smtp: SmtpCatcher | undefined;
let relay: RelayProcesses | undefined;

beforeAll(async () => {
  if (!hasRedisServer) return;
  const started = await startRedisSentinel({ sentinels: 3 });
  sentinel = started;
  const db = await createTestDatabase("e2e_sentinel");
  database = db;
  const catcher = await startSmtpCatcher();
  smtp = catcher;
  relay = await startRelayProcesses({
    redisEnv: {
      REDIS_SENTINELS: started.sentinels,
      REDIS_SENTINEL_MASTER: started.masterName,
      REDIS_PREFIX: "e2e",
    },
    databaseUrl: db.url,
    smtpUrl: catcher.url,
    families: ["queue"],
  });
}, 120_000);

afterAll(async () => {
  await relay?.stop();
  await sentinel?.stop();
  await smtp?.stop();
  await database?.drop();
}, 60_000);

describe.skipIf(!hasRedisServer)(
  "fault: the primary behind 3 Sentinels is killed under load (1 replica)",
  () => {
    it("SIGKILL of the primary during a delivery loop → answers only 200 or 503; 200 again once Sentinel promotes the replica; every 200-answered event applied exactly once", async () => {
      if (relay === undefined || sentinel === undefined || database === undefined) {
        throw new Error("not started");
      }
      for (const app of [relay.ingest, ...relay.workers.values()]) {
        expect(app.output()).toContain('"redisMode":"sentinel"');
      }

      const load = startDeliveryLoad(relay, 8, "sentinel");
      await waitUntil(() => Promise.resolve(load.tally.acknowledged.length >= 100), 30_000);
      const oldPrimary = await sentinel.killMaster();
      const newPrimary = await sentinel.waitForFailover(oldPrimary, 30_000);
      const atPromotion = load.tally.acknowledged.length;
      await waitUntil(
        () => Promise.resolve(load.tally.acknowledged.length >= atPromotion + 100),
        30_000,
      );
      await load.stop();
      const { acknowledged, refused, unexpected } = load.tally;
      console.info(
        `sentinel failover ${String(oldPrimary)} → ${String(newPrimary)}: ${String(acknowledged.length)} acknowledged, ${String(refused)} refused with 503`,
      );

      expect(newPrimary).not.toBe(oldPrimary);
      expect(unexpected).toEqual([]);
      expect(refused).toBeGreaterThan(0);
      // The outage is logged when it starts, not once per refused delivery.
      const warnings = relay.ingest
        .output()
        .split("\n")
        .filter((line) => line.includes('"level":40') || line.includes('"level":50'));
      expect(warnings.length).toBeLessThanOrEqual(2);
      // The worker followed the new primary and applied everything acknowledged, once each.
      await waitForCompleted(database.db, acknowledged, 60_000);
      expect(await effectCounts(database.db, acknowledged)).toEqual({
        applied: acknowledged.length,
        notOnce: [],
      });
    }, 120_000);
  },
);
