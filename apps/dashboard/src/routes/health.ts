import { pingRedis, type RedisConnection } from "@fanfare-relay/queues/redis-connection";
import type { FastifyInstance } from "fastify";

const PING_TIMEOUT_MS = 1_000;

async function pingWithin(
  redis: RedisConnection,
  slotKeys: readonly string[],
  ms: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error("redis ping timed out"));
    }, ms);
  });
  try {
    await Promise.race([pingRedis(redis, slotKeys), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For the load balancer: no session needed, 200 only while Redis (the board's data) answers; on a
 * cluster, every master and the master of each queue's slot (`slotKeys`: a node answers PING even
 * while the cluster is down). One log line when the checks start failing and one when they pass
 * again, not one per probe.
 */
export function healthRoutes(
  app: FastifyInstance,
  { redis, slotKeys = [] }: { redis: RedisConnection; slotKeys?: readonly string[] },
) {
  let failing = false;
  app.get("/healthz", { config: { public: true } }, async (request, reply) => {
    try {
      await pingWithin(redis, slotKeys, PING_TIMEOUT_MS);
    } catch (error) {
      if (!failing) request.log.warn({ err: error }, "health: redis unreachable");
      failing = true;
      return reply.code(503).send({ status: "redis_unavailable" });
    }
    if (failing) request.log.info("health: redis answers again");
    failing = false;
    return { status: "ok" };
  });
}
