import { allQueueNames } from "@fanfare-relay/events/families";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { slotProbeKeys } from "@fanfare-relay/queues/queue-keys";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { parseNodeList } from "@fanfare-relay/queues/redis-target";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisCluster, type RedisCluster } from "@fanfare-relay/testing/redis-cluster";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type IngestApp } from "../src/app.ts";
import { SECRET, signedDelivery, uniqueEvent } from "./helpers.ts";

let cluster: RedisCluster | undefined;
let app: IngestApp | undefined;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  if (!hasRedisBinaries()) return;
  const started = await startRedisCluster();
  cluster = started;
  const nodes = parseNodeList(started.seeds);
  if ("invalid" in nodes) throw new Error(`bad seeds ${started.seeds}`);
  const connection = createProducerConnection({ mode: "cluster", nodes });
  connection.on("error", () => undefined);
  const producer = new EventProducer({ connection, prefix: "ingest" });
  await producer.waitUntilReady();
  const built = buildApp({
    secrets: [SECRET],
    toleranceSeconds: 300,
    bodyLimitBytes: 1024 * 1024,
    enqueueTimeoutMs: 1_000,
    evictionCheckIntervalMs: 100,
    readinessKeys: slotProbeKeys("ingest", allQueueNames),
    producer,
    redis: connection,
  });
  await built.ready();
  app = built;
  close = async () => {
    await built.close();
    await producer.close();
    connection.disconnect();
  };
}, 60_000);

afterAll(async () => {
  await close?.();
  await cluster?.stop();
});

describe.skipIf(!hasRedisBinaries())(
  "fault: one master of a Redis Cluster may evict keys (maxmemory-policy allkeys-lru)",
  () => {
    it("allkeys-lru on 1 of 3 masters → deliveries 503 INGEST_REDIS_MAY_EVICT, /readyz naming that master; noeviction again → 200", async () => {
      if (app === undefined || cluster === undefined) throw new Error("not started");
      const ready = app;
      const master = cluster.nodes.find((node) => node.role === "master");
      const admin = new Redis({ port: master?.port ?? 0 });
      try {
        await expect.poll(async () => (await ready.inject("/readyz")).statusCode).toBe(200);
        await admin.config("SET", "maxmemory-policy", "allkeys-lru");

        await expect
          .poll(async () => (await ready.inject("/readyz")).json<{ reason?: string }>().reason)
          .toContain(`allkeys-lru on 127.0.0.1:${String(master?.port ?? 0)}`);
        const refused = await ready.inject(signedDelivery(uniqueEvent()));
        expect(refused.statusCode).toBe(503);
        expect(refused.json()).toMatchObject({ code: "INGEST_REDIS_MAY_EVICT" });

        await admin.config("SET", "maxmemory-policy", "noeviction");
        await expect.poll(async () => (await ready.inject("/readyz")).statusCode).toBe(200);
        expect((await ready.inject(signedDelivery(uniqueEvent()))).statusCode).toBe(200);
      } finally {
        admin.disconnect();
      }
    });
  },
);
