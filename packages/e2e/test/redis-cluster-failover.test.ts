import type { Envelope } from "@fanfare-relay/events/envelope";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { familyQueueNames } from "@fanfare-relay/events/families";
import { queueKeyBase } from "@fanfare-relay/queues/queue-keys";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { startRedisCluster, type RedisCluster } from "@fanfare-relay/testing/redis-cluster";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Redis } from "ioredis";
import { sql } from "kysely";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRelayProcesses, type RelayProcesses } from "../src/relay-processes.ts";

const hasRedisServer =
  spawnSync(process.env.REDIS_SERVER_BIN ?? "redis-server", ["--version"]).error === undefined;

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

const found = fixtureEvents.find((event) => event.type === "queue.consumer_entered");
if (found === undefined) throw new Error("no queue.consumer_entered fixture");
const entered: Envelope = found;

let sequence = 0;
/** A new consumer entering the queue: one event, one entity of its own. */
function nextEvent(): Envelope {
  sequence += 1;
  return {
    ...entered,
    id: `evt_failover_${String(sequence)}`,
    data: { ...entered.data, consumerId: `con_failover_${String(sequence)}` },
  };
}

interface Tally {
  acknowledged: string[];
  refused: number;
  /** Any answer but 200 or 503, or a failed request: none may happen. */
  unexpected: string[];
}

/** `concurrency` loops delivering new events until `stop()`; every answer is counted. */
function startLoad(relay: RelayProcesses, concurrency: number) {
  const tally: Tally = { acknowledged: [], refused: 0, unexpected: [] };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const event = nextEvent();
      try {
        const { status, body } = await relay.deliver(event);
        if (status === 200) tally.acknowledged.push(event.id);
        else if (status === 503) tally.refused += 1;
        else tally.unexpected.push(`${String(status)} ${body}`);
      } catch (error) {
        tally.unexpected.push(String(error));
      }
      // A 503 is retried by the sender later; here, a moment later, as a real one would.
      if (tally.refused > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
  return {
    tally,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe.skipIf(!hasRedisServer)(
  "fault: the master of fanfare-queue's slot is killed under load (3 masters, 1 replica each)",
  () => {
    it("SIGKILL of the master during a delivery loop → answers only 200 or 503; 200 again after the replica's promotion; every 200-answered event applied exactly once", async () => {
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

      const load = startLoad(relay, 8);
      await waitUntil(() => Promise.resolve(load.tally.acknowledged.length >= 100), 30_000);
      await cluster.kill(master.port);
      const beforePromotion = load.tally.acknowledged.length;
      const { newMasterPort } = await cluster.waitForFailover(master.port, 30_000);
      const atPromotion = load.tally.acknowledged.length;
      // The ingest takes deliveries again once it has the new slot map.
      await waitUntil(
        () => Promise.resolve(load.tally.acknowledged.length >= atPromotion + 100),
        30_000,
      );
      await load.stop();
      const { acknowledged, refused, unexpected } = load.tally;

      expect(newMasterPort).not.toBe(master.port);
      expect(unexpected).toEqual([]);
      // The deliveries in flight when the master died: refused, never answered 200.
      expect(refused).toBeGreaterThan(0);
      // One line when the refusals start and one when they end, not one per delivery.
      const warnings = relay.ingest
        .output()
        .split("\n")
        .filter((line) => line.includes('"level":40') || line.includes('"level":50'));
      expect(warnings.length).toBeLessThanOrEqual(2);
      console.info(
        `failover: ${String(acknowledged.length)} acknowledged (${String(beforePromotion)} before the kill), ${String(refused)} refused with 503`,
      );

      // Workers resume on the new master and apply every acknowledged event, each once.
      await waitUntil(async () => {
        const { count } = await db
          .selectFrom("webhook_events")
          .select(sql<string>`count(*)`.as("count"))
          .where("status", "=", "completed")
          .where("event_id", "in", acknowledged)
          .executeTakeFirstOrThrow();
        return Number(count) === acknowledged.length;
      }, 60_000);
      const applied = await db
        .selectFrom("analytics_events")
        .select(["event_id", sql<string>`count(*)`.as("count")])
        .where("event_id", "in", acknowledged)
        .groupBy("event_id")
        .execute();
      expect(applied).toHaveLength(acknowledged.length);
      expect(applied.filter((row) => Number(row.count) !== 1)).toEqual([]);
    }, 120_000);
  },
);
