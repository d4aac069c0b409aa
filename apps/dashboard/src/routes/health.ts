import { pingRedis, type RedisConnection } from "@fanfare-relay/queues/redis-connection";
import type { FastifyInstance } from "fastify";

const PING_TIMEOUT_MS = 1_000;

async function pingWithin(redis: RedisConnection, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error("redis ping timed out"));
    }, ms);
  });
  try {
    await Promise.race([pingRedis(redis), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For the load balancer: no session needed, 200 only while Redis (the board's data) answers; on a
 * cluster, every master, since each holds the queues of its own slots.
 */
export function healthRoutes(app: FastifyInstance, { redis }: { redis: RedisConnection }) {
  app.get("/healthz", { config: { public: true } }, async (request, reply) => {
    try {
      await pingWithin(redis, PING_TIMEOUT_MS);
    } catch (error) {
      request.log.warn({ err: error }, "health: redis unreachable");
      return reply.code(503).send({ status: "redis_unavailable" });
    }
    return { status: "ok" };
  });
}
