import type { FastifyInstance } from "fastify";
import { pingRedis, type RedisConnection } from "@fanfare-relay/queues/redis-connection";
import type { PolicyNotReady } from "../eviction-gate.ts";
import type { IngestMetrics } from "../metrics.ts";
import { withTimeout } from "../with-timeout.ts";

export interface HealthRouteOptions {
  /** Pinged by /readyz: one node, or every master of a cluster. */
  redis: RedisConnection;
  /** Keys whose slots' masters must answer (a cluster's queues). */
  readinessKeys: readonly string[];
  metrics: IngestMetrics;
  isDraining: () => boolean;
  /** Redis's eviction policy, as far as deliveries are concerned. */
  policy: { refresh(): Promise<void>; notReady(): PolicyNotReady | undefined };
}

const READY_PING_TIMEOUT_MS = 1_000;

export function healthRoutes(
  app: FastifyInstance,
  { redis, readinessKeys, metrics, isDraining, policy }: HealthRouteOptions,
) {
  app.get("/healthz", (_request, reply) => reply.send({ status: "ok" }));

  let probeWarned = false;
  app.get("/readyz", async (request, reply) => {
    if (isDraining()) return reply.code(503).send({ status: "draining" });
    try {
      await withTimeout(pingRedis(redis, readinessKeys), READY_PING_TIMEOUT_MS);
      if (probeWarned) request.log.info("readiness: redis answers again");
      probeWarned = false;
    } catch (error) {
      // A connection known to be down has had its one outage line; a slow Redis (or a cluster
      // master that died) has not: one line when the probes start failing, not one per probe.
      if (redis.status === "ready" && !probeWarned) {
        request.log.warn({ err: error }, "readiness: redis did not answer in time");
        probeWarned = true;
      }
      return reply.code(503).send({ status: "redis_unavailable" });
    }
    // A probe is also a chance to see a fixed policy sooner than the periodic check would.
    await withTimeout(policy.refresh(), READY_PING_TIMEOUT_MS).catch(() => undefined);
    const notReady = policy.notReady();
    if (notReady) return reply.code(503).send(notReady);
    return { status: "ready" };
  });

  app.get("/metrics", async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
