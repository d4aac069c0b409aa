import { familyQueueNames } from "@fanfare-relay/events/families";
import { queueKeyBase } from "@fanfare-relay/queues/queue-keys";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisCluster, type RedisCluster } from "@fanfare-relay/testing/redis-cluster";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { effectCounts, waitForCompleted } from "../src/applied-events.ts";
import { startDeliveryLoad } from "../src/delivery-load.ts";
import { startRelayProcesses, type RelayProcesses } from "../src/relay-processes.ts";

const hasRedisServer = hasRedisBinaries();

const prefix = "e2e";
let cluster: RedisCluster | undefined;
let database: TestDatabase | undefined;
let smtp: SmtpCatcher | undefined;
let relay: RelayProcesses | undefined;

beforeAll(async () => {
  if (!hasRedisServer) return;
  const started = await startRedisCluster({ replicasPerMaster: 1 });
  cluster = started;
  const db = await createTestDatabase("e2e_failover");
  database = db;
  const catcher = await startSmtpCatcher();
  smtp = catcher;
  relay = await startRelayProcesses({
    redisEnv: { REDIS_CLUSTER_NODES: started.seeds, REDIS_PREFIX: prefix },
    databaseUrl: db.url,
    smtpUrl: catcher.url,
    families: ["queue"],
  });
}, 120_000);

afterAll(async () => {
  await relay?.stop();
  await cluster?.stop();
  await smtp?.stop();
  await database?.drop();
}, 60_000);

describe.skipIf(!hasRedisServer)(
  "fault: the master of fanfare-queue's slot is killed under load (3 masters, 1 replica each)",
  () => {
    it("SIGKILL of the master during a delivery loop → answers only 200 or 503, /readyz 503 until the replica's promotion, then 200; every 200-answered event applied exactly once", async () => {
      if (relay === undefined || cluster === undefined || database === undefined) {
        throw new Error("not started");
      }
      const { db } = database;
      const admin = new Redis({ port: cluster.nodes[0]?.port ?? 0, lazyConnect: true });
      const slot = Number(
        await admin.call(
          "CLUSTER",
          "KEYSLOT",
          `${queueKeyBase(prefix, familyQueueNames.queue)}:wait`,
        ),
      );
      admin.disconnect();
      const master = await cluster.masterOfSlot(slot);

      const load = startDeliveryLoad(relay, 8, "failover");
      await waitUntil(() => Promise.resolve(load.tally.acknowledged.length >= 100), 30_000);
      await cluster.kill(master.port);
      const beforePromotion = load.tally.acknowledged.length;
      // /readyz reaches the master of every queue's slot: it fails until the replica takes over.
      const readiness: number[] = [];
      const failover = { done: false };
      const probing = (async () => {
        while (!failover.done) {
          readiness.push((await fetch(`${relay.ingestUrl}/readyz`)).status);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const { newMasterPort } = await cluster.waitForFailover(master.port, 30_000);
      failover.done = true;
      await probing;
      const atPromotion = load.tally.acknowledged.length;
      // The ingest takes deliveries again once it has the new slot map.
      await waitUntil(
        () => Promise.resolve(load.tally.acknowledged.length >= atPromotion + 100),
        30_000,
      );
      await load.stop();
      const { acknowledged, refused, unexpected } = load.tally;

      expect(newMasterPort).not.toBe(master.port);
      expect(readiness).toContain(503);
      expect((await fetch(`${relay.ingestUrl}/readyz`)).status).toBe(200);
      expect(unexpected).toEqual([]);
      // The deliveries in flight when the master died: refused, never answered 200.
      expect(refused).toBeGreaterThan(0);
      // A line when the refusals start (again, after a lucky success) and when readiness starts
      // failing: a handful, not one per delivery or probe.
      const warnings = relay.ingest
        .output()
        .split("\n")
        .filter((line) => line.includes('"level":40') || line.includes('"level":50'));
      expect(warnings.length).toBeLessThanOrEqual(5);
      console.info(
        `failover: ${String(acknowledged.length)} acknowledged (${String(beforePromotion)} before the kill), ${String(refused)} refused with 503`,
      );

      // Workers resume on the new master and apply every acknowledged event, each once.
      await waitForCompleted(db, acknowledged, 60_000);
      expect(await effectCounts(db, acknowledged)).toEqual({
        applied: acknowledged.length,
        notOnce: [],
      });
    }, 120_000);
  },
);
