import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";

export interface LoginLimiterOptions {
  /**
   * Shared by every dashboard replica, so the limit holds however many there are. A cluster works
   * as it is: each counter is one key, read and bumped by a one-key script.
   */
  redis: RedisConnection;
  prefix: string;
  /** Failed logins allowed per client address and user name within the window. */
  maxFailures: number;
  windowMs: number;
}

export interface LoginLimiter {
  /** Seconds until this address may try this user name again, or 0 when it may now. */
  blockedForSeconds(request: FastifyRequest, username: string): Promise<number>;
  recordFailure(request: FastifyRequest, username: string): Promise<void>;
}

// Password spraying (one address, many user names) gets a wider limit of its own.
const ADDRESS_FACTOR = 5;

/**
 * Counts failed logins only, so an operator who logs in often is never locked out; once the
 * failures reach the limit, even the right password is refused until the window ends, or the
 * limit could not slow down guessing.
 */
export async function registerLoginLimiter(
  app: FastifyInstance,
  { redis, prefix, maxFailures, windowMs }: LoginLimiterOptions,
): Promise<LoginLimiter> {
  await app.register(fastifyRateLimit, {
    global: false,
    redis,
    nameSpace: `${prefix}:dashboard:login-failures:`,
    timeWindow: windowMs,
  });
  // The limiter's key generator only sees the request; the user name it keys on rides along here.
  const usernames = new WeakMap<FastifyRequest, string>();
  const perUser = app.createRateLimit({
    max: maxFailures,
    timeWindow: windowMs,
    keyGenerator: (request) => `user:${request.ip}:${usernames.get(request) ?? ""}`,
  });
  const perAddress = app.createRateLimit({
    max: maxFailures * ADDRESS_FACTOR,
    timeWindow: windowMs,
    keyGenerator: (request) => `address:${request.ip}`,
  });
  const withUsername = (request: FastifyRequest, username: string) =>
    usernames.set(request, username.slice(0, 200));

  return {
    async blockedForSeconds(request, username) {
      withUsername(request, username);
      const checks = await Promise.all([
        perUser(request, { increment: false }),
        perAddress(request, { increment: false }),
      ]);
      let seconds = 0;
      for (const check of checks) {
        if (!check.isAllowed && check.remaining === 0) {
          seconds = Math.max(seconds, check.ttlInSeconds, 1);
        }
      }
      return seconds;
    },
    async recordFailure(request, username) {
      withUsername(request, username);
      await Promise.all([perUser(request), perAddress(request)]);
    },
  };
}
