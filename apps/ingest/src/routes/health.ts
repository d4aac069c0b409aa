import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { IngestMetrics } from "../metrics.ts";
import { withTimeout } from "../with-timeout.ts";

export interface HealthRouteOptions {
  redis: Pick<Redis, "ping">;
  metrics: IngestMetrics;
  isDraining: () => boolean;
}

const READY_PING_TIMEOUT_MS = 1_000;

export function healthRoutes(
  app: FastifyInstance,
  { redis, metrics, isDraining }: HealthRouteOptions,
) {
  app.get("/healthz", (_request, reply) => reply.send({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    if (isDraining()) return reply.code(503).send({ status: "draining" });
    try {
      await withTimeout(redis.ping(), READY_PING_TIMEOUT_MS);
      return { status: "ready" };
    } catch (error) {
      request.log.warn({ err: error }, "readiness: redis unreachable");
      return reply.code(503).send({ status: "redis_unavailable" });
    }
  });

  app.get("/metrics", async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
