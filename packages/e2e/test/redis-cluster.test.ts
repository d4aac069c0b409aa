import type { Envelope } from "@fanfare-relay/events/envelope";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { allQueueNames, unroutedQueueName } from "@fanfare-relay/events/families";
import { bullPrefix, queueKeyBase } from "@fanfare-relay/queues/queue-keys";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisCluster, type RedisCluster } from "@fanfare-relay/testing/redis-cluster";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { spawnApp, waitUntil } from "@fanfare-relay/testing/spawn-app";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRelayProcesses, type RelayProcesses } from "../src/relay-processes.ts";

const hasRedisServer = hasRedisBinaries();

const prefix = "e2e";
let cluster: RedisCluster | undefined;
let database: TestDatabase | undefined;
let smtp: SmtpCatcher | undefined;
let relay: RelayProcesses | undefined;
let client: Cluster | undefined;

beforeAll(async () => {
  if (!hasRedisServer) return;
  const started = await startRedisCluster();
  cluster = started;
  const db = await createTestDatabase("e2e_cluster");
  database = db;
  const catcher = await startSmtpCatcher();
  smtp = catcher;
  relay = await startRelayProcesses({
    redisEnv: { REDIS_CLUSTER_NODES: started.seeds, REDIS_PREFIX: prefix },
    databaseUrl: db.url,
    smtpUrl: catcher.url,
  });
  client = new Cluster(
    started.seeds
      .split(",")
      .map((seed) => ({ host: "127.0.0.1", port: Number(seed.split(":")[1]) })),
  );
}, 120_000);

afterAll(async () => {
  await relay?.stop();
  client?.disconnect();
  await cluster?.stop();
  await smtp?.stop();
  await database?.drop();
}, 60_000);

function running(): RelayProcesses {
  if (relay === undefined) throw new Error("relay not started");
  return relay;
}

function setup() {
  if (cluster === undefined || database === undefined || client === undefined) {
    throw new Error("not started");
  }
  return { cluster, database, client };
}

const withNewId = (event: Envelope): Envelope => ({ ...event, id: `evt_${randomUUID()}` });

async function statuses(ids: readonly string[]) {
  const rows = await setup()
    .database.db.selectFrom("webhook_events")
    .select(["event_id", "status"])
    .where("event_id", "in", ids)
    .execute();
  return new Map(rows.map((row) => [row.event_id, row.status]));
}

describe.skipIf(!hasRedisServer)("guarantee: the relay on a real 3-master Redis Cluster", () => {
  it("the six queues, their markers and counters → each queue in one slot, the queues on all 3 masters", async () => {
    const { cluster, client } = setup();
    const masters = new Set<number>();
    for (const name of allQueueNames) {
      const base = queueKeyBase(prefix, name);
      const slots = new Set(
        await Promise.all(
          [`${base}:wait`, `${base}:meta`, `${base}:seen:evt`, `${base}:failure-rate:t`].map(
            async (key) => Number(await client.call("CLUSTER", "KEYSLOT", key)),
          ),
        ),
      );
      expect(slots.size).toBe(1);
      const [slot] = slots;
      masters.add((await cluster.masterOfSlot(slot ?? -1)).port);
    }
    expect(masters.size).toBe(3);
  });

  it("every fixture (19 types) and 1 unknown type, signed, over HTTP → 20 × 200; 19 rows completed by the five worker processes, 1 job kept in fanfare-unrouted", async () => {
    const events = fixtureEvents.map(withNewId);
    const [first] = fixtureEvents;
    if (first === undefined) throw new Error("no fixtures");
    const unknown = withNewId({ ...first, type: "drop.teleported" });
    const answers = await Promise.all(
      [...events, unknown].map((event) => running().deliver(event)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));

    const ids = events.map((event) => event.id);
    await waitUntil(async () => {
      const seen = await statuses(ids);
      return ids.every((id) => seen.get(id) === "completed");
    }, 30_000);
    const unrouted = new Queue(unroutedQueueName, {
      connection: setup().client,
      prefix: bullPrefix(prefix, unroutedQueueName),
    });
    try {
      expect(await unrouted.getJobCounts("wait")).toEqual({ wait: 1 });
    } finally {
      await unrouted.close();
    }
  });

  it("100 concurrent deliveries of one event → 100 × 200, exactly 1 not marked duplicate, 1 job, 1 row completed", async () => {
    const fixture = fixtureEvents.find((e) => e.type.startsWith("queue."));
    if (fixture === undefined) throw new Error("no queue fixture");
    const event = withNewId(fixture);
    const answers = await Promise.all(Array.from({ length: 100 }, () => running().deliver(event)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(100);
    expect(answers.filter((answer) => !answer.body.includes('"duplicate":true'))).toHaveLength(1);
    await waitUntil(async () => (await statuses([event.id])).get(event.id) === "completed", 30_000);
    const rows = await setup()
      .database.db.selectFrom("webhook_events")
      .select("attempts")
      .where("event_id", "=", event.id)
      .execute();
    expect(rows).toEqual([{ attempts: 1 }]);
  });

  it("each worker and the ingest logged its Redis as the cluster, and the ingest is ready", async () => {
    const response = await fetch(`${running().ingestUrl}/readyz`);
    expect(response.status).toBe(200);
    for (const app of [running().ingest, ...running().workers.values()]) {
      expect(app.output()).toContain('"redisMode":"cluster"');
    }
  });
});

describe.skipIf(!hasRedisServer)(
  "fault: REDIS_URL at one node of a Redis Cluster (the single-node setting)",
  () => {
    it("ingest, worker and dashboard started with REDIS_URL at a cluster node → each exits 1 at once, its fatal line saying to set REDIS_CLUSTER_NODES", async () => {
      const { cluster, database } = setup();
      const [node] = cluster.nodes;
      const shared = {
        REDIS_URL: `redis://127.0.0.1:${String(node?.port ?? 0)}`,
        PORT: "0",
        HOST: "127.0.0.1",
      };
      const app = (name: string) =>
        fileURLToPath(new URL(`../../../apps/${name}`, import.meta.url));
      const started = [
        spawnApp(app("ingest"), { ...shared, FANFARE_WEBHOOK_SECRETS: "whsec_e2e_mode" }),
        spawnApp(app("worker-queue"), { ...shared, DATABASE_URL: database.url }),
        spawnApp(app("dashboard"), { ...shared, DASHBOARD_DEMO: "true" }),
      ];
      const codes = await Promise.all(
        started.map(async ({ child }) => ((await once(child, "exit")) as [number | null])[0]),
      );
      expect(codes).toEqual([1, 1, 1]);
      for (const { output } of started) {
        expect(output()).toMatch(
          /"level":60.*REDIS_URL points at a node of a Redis Cluster: set REDIS_CLUSTER_NODES/,
        );
      }
    });
  },
);
