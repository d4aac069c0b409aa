import type { Envelope } from "@fanfare-relay/events/envelope";
import { allQueueNames, unroutedQueueName, type QueueName } from "@fanfare-relay/events/families";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { bullPrefix } from "@fanfare-relay/queues/queue-keys";
import { createWorkerConnection } from "@fanfare-relay/queues/redis-connection";
import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { routeEventType } from "@fanfare-relay/queues/routing";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisCluster, type RedisCluster } from "@fanfare-relay/testing/redis-cluster";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, createDashboard, type DashboardHarness } from "./helpers.ts";

const hasRedis = hasRedisBinaries();

const MAX_FAILURES = 3;

/** The first fixture of each family's queue, and one event of a type no catalogue knows. */
function onePerQueue(): Envelope[] {
  const byQueue = new Map<QueueName, Envelope>();
  for (const event of fixtureEvents) {
    const { queueName } = routeEventType(event.type);
    if (!byQueue.has(queueName)) byQueue.set(queueName, event);
  }
  const unknown: Envelope = {
    id: "evt_cluster_unknown",
    type: "mystery.something_happened",
    created: Math.floor(Date.now() / 1000),
    organizationId: "org_cluster",
    data: {},
  };
  return [...byQueue.values(), unknown];
}

describe.skipIf(!hasRedis)("guarantee: the dashboard on a 3-master Redis Cluster", () => {
  let cluster: RedisCluster;
  let target: RedisTarget;
  let d: DashboardHarness;
  let producer: EventProducer;
  let cookies: Record<string, string>;
  /** The job id of each queue's one job. */
  const jobIds = new Map<QueueName, string>();

  beforeAll(async () => {
    cluster = await startRedisCluster();
    target = {
      mode: "cluster",
      nodes: cluster.seeds.split(",").map((seed) => {
        const [host = "", port = ""] = seed.split(":");
        return { host, port: Number(port) };
      }),
    };
    d = await createDashboard({ redisTarget: target, loginMaxFailures: MAX_FAILURES });
    producer = new EventProducer({ connection: d.redis, prefix: d.prefix });
    await producer.waitUntilReady();
    for (const event of onePerQueue()) {
      const { queueName, jobId } = await producer.enqueue(event);
      jobIds.set(queueName, jobId);
    }
    cookies = await d.login();
  }, 60_000);
  afterAll(async () => {
    await producer.close();
    await d.close();
    await cluster.stop();
  });

  it("one event per family and one unrouted, 6 queues → each lists its 1 waiting job by id", async () => {
    expect([...jobIds.keys()].sort()).toEqual([...allQueueNames].sort());
    for (const queueName of allQueueNames) {
      const response = await d.app.inject({
        url: `/api/queues?activeQueue=${queueName}&status=waiting&page=1&jobsPerPage=10`,
        cookies,
      });
      expect(response.statusCode).toBe(200);
      const { queues } = response.json<{
        queues: { name: string; counts: Record<string, number>; jobs: { id: string }[] }[];
      }>();
      expect(queues).toHaveLength(6);
      const queue = queues.find((candidate) => candidate.name === queueName);
      expect(queue?.counts).toMatchObject({ waiting: 1, failed: 0, completed: 0 });
      expect(queue?.jobs.map((job) => job.id)).toEqual([jobIds.get(queueName)]);
    }
  });

  it("GET /healthz, every master answering → 200", async () => {
    const response = await d.app.inject({ url: "/healthz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  it(`${String(MAX_FAILURES)} wrong passwords → the next try gets 429, counted on the cluster`, async () => {
    const attempt = (password: string) =>
      d.app.inject({
        method: "POST",
        url: "/login",
        remoteAddress: "192.0.2.30",
        payload: { username: ADMIN.username, password },
      });
    for (let tries = 1; tries <= MAX_FAILURES; tries++) {
      expect((await attempt(`guess ${String(tries)}`)).statusCode).toBe(401);
    }
    const limited = await attempt("guess again");
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: "DASHBOARD_TOO_MANY_LOGINS" });
  });

  it("a failed unrouted job, Retry in the board → back to waiting", async () => {
    const jobId = jobIds.get(unroutedQueueName) ?? "";
    const connection = createWorkerConnection(target);
    const worker = new Worker(
      unroutedQueueName,
      () => Promise.reject(new UnrecoverableError("no handler for this type")),
      { connection, prefix: bullPrefix(d.prefix, unroutedQueueName) },
    );
    try {
      const [failed] = (await once(worker, "failed")) as [Job];
      expect(failed.id).toBe(jobId);
    } finally {
      await worker.close();
      await connection.quit();
    }
    const queue = producer.queues.get(unroutedQueueName);
    expect(await queue?.getJobState(jobId)).toBe("failed");

    const response = await d.app.inject({
      method: "PUT",
      url: `/api/queues/${unroutedQueueName}/${encodeURIComponent(jobId)}/retry`,
      cookies,
    });
    expect(response.statusCode).toBe(204);
    expect(await queue?.getJobState(jobId)).toBe("waiting");
  });
});
