import {
  createProducerConnection,
  type RedisConnection,
} from "@fanfare-relay/queues/redis-connection";
import type { RedisTarget } from "@fanfare-relay/queues/redis-target";
import { deleteKeys, testRedisUrl, uniquePrefix } from "@fanfare-relay/testing/redis";
import { Redis } from "ioredis";
import { buildApp, type DashboardApp, type DashboardDeps } from "../src/app.ts";
import { SESSION_COOKIE } from "../src/auth/session.ts";
import type { UserCredentials } from "../src/auth/users.ts";

export const ADMIN = { username: "ops-admin", password: "correct horse battery" };
export const VIEWER = { username: "ops-viewer", password: "viewer staple pass" };
export const SESSION_SECRET = "test-session-secret-0123456789abcdef0123456789";

export const testUsers: UserCredentials[] = [
  { ...ADMIN, role: "admin" },
  { ...VIEWER, role: "viewer" },
];

export interface DashboardHarness {
  app: DashboardApp;
  redis: RedisConnection;
  prefix: string;
  /** Logs in through POST /login and returns the cookies to send with requests. */
  login(user?: { username: string; password: string }): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * A dashboard on the real Redis. Its own key prefix unless the test shares one with a worker
 * harness (then that harness deletes the keys). `redisTarget` (e.g. a test's own cluster) wins
 * over `redisUrl`; keys are deleted on close only on a single node (a test's own cluster is
 * thrown away whole).
 */
export async function createDashboard(
  overrides: Partial<DashboardDeps> & {
    redisUrl?: string;
    redisTarget?: RedisTarget;
    ready?: boolean;
  } = {},
): Promise<DashboardHarness> {
  const { redisUrl = testRedisUrl, redisTarget, ready = true, ...deps } = overrides;
  const ownPrefix = deps.prefix === undefined;
  const prefix = deps.prefix ?? uniquePrefix("dashboard");
  const redis = createProducerConnection(redisTarget ?? redisUrl);
  redis.on("error", () => undefined);
  // A producer connection fails commands until it is up, rather than queueing them.
  if (redisTarget !== undefined || redisUrl === testRedisUrl) {
    await new Promise((resolve) => redis.once("ready", resolve));
  }
  const app = await buildApp({
    prefix,
    users: testUsers,
    sessionSecret: SESSION_SECRET,
    ...deps,
    redis,
  });
  // Left unready on request, so that a test can add routes first.
  if (ready) await app.ready();
  return {
    app,
    redis,
    prefix,
    async login(user = ADMIN) {
      const response = await app.inject({ method: "POST", url: "/login", payload: user });
      if (response.statusCode !== 200) {
        throw new Error(`login failed: ${String(response.statusCode)} ${response.body}`);
      }
      const cookie = response.cookies.find((candidate) => candidate.name === SESSION_COOKIE);
      if (cookie === undefined) throw new Error("login set no session cookie");
      return { [SESSION_COOKIE]: cookie.value };
    },
    async close() {
      await app.close();
      if (ownPrefix && redis instanceof Redis && redis.status === "ready") {
        await deleteKeys(redis, prefix);
      }
      await redis.quit().catch(() => undefined);
    },
  };
}
