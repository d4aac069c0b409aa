import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

export interface HealthServerDeps {
  /** True while the worker takes jobs and its Redis connection is up. */
  isHealthy: () => boolean;
  registry: Registry;
}

/** The worker's only HTTP surface: liveness for the orchestrator and metrics for the scraper. */
export function buildHealthServer({ isHealthy, registry }: HealthServerDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get("/healthz", async (_request, reply) => {
    const healthy = isHealthy();
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? "ok" : "unavailable" });
  });
  app.get("/metrics", async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  app.setNotFoundHandler(async (_request, reply) => {
    return reply.code(404).send({ error: "Not found", code: "WORKER_NOT_FOUND" });
  });
  return app;
}
