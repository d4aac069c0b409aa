import { freePort } from "@fanfare-relay/testing/free-port";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/database.ts";
import { checkMigrations, checkPostgres } from "../src/doctor/postgres-checks.ts";
import { listPendingMigrations, migrationNames } from "@fanfare-relay/db/migrate";
import {
  checkRedisEviction,
  checkRedisPersistence,
  checkRedisVersion,
} from "../src/doctor/redis-checks.ts";
import { runDoctor } from "../src/doctor/run-doctor.ts";
import { checkWebhookSecrets } from "../src/doctor/secret-check.ts";
import { checkSmtp } from "../src/doctor/smtp-check.ts";
import { openRedis } from "../src/redis-client.ts";
import { redisChecks } from "../src/doctor/redis-target-checks.ts";
import { startRedisServer } from "@fanfare-relay/testing/redis-server";
import {
  CACHE_REDIS,
  HEALTHY_REDIS,
  startConfiguredRedis,
  type ConfiguredRedis,
} from "./configured-redis.ts";
import { startSilentServer } from "./silent-server.ts";

describe("the Redis checks", () => {
  let healthy: ConfiguredRedis;
  let cache: ConfiguredRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    [healthy, cache] = await Promise.all([
      startConfiguredRedis(HEALTHY_REDIS),
      startConfiguredRedis(CACHE_REDIS),
    ]);
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([healthy.stop(), cache.stop()]);
  });
  const connect = async (redis: ConfiguredRedis) => {
    const client = await openRedis({ mode: "single", url: redis.server.url }, 2000);
    clients.push(client);
    return client;
  };

  it("pass on a Redis ≥ 7 with noeviction and AOF", async () => {
    const redis = await connect(healthy);
    expect(await checkRedisVersion(redis, "here")).toEqual({
      name: "redis",
      status: "ok",
      detail: expect.stringMatching(/^Redis [7-9]\.\d+\.\d+ at here$/),
    });
    expect(await checkRedisEviction(redis)).toEqual({
      name: "redis eviction",
      status: "ok",
      detail: "maxmemory-policy noeviction",
    });
    expect(await checkRedisPersistence(redis)).toEqual({
      name: "redis persistence",
      status: "ok",
      detail: "AOF enabled",
    });
  });

  it("fail on an evicting policy and on no AOF and no RDB, saying what to change", async () => {
    const redis = await connect(cache);
    expect(await checkRedisEviction(redis)).toEqual({
      name: "redis eviction",
      status: "fail",
      detail: expect.stringContaining("maxmemory-policy is allkeys-lru"),
      advice: expect.stringContaining("`CONFIG SET maxmemory-policy noeviction`"),
    });
    expect((await checkRedisEviction(redis)).advice).toContain("redis.conf");
    // startRedisServer also turns RDB snapshots off (`--save ""`).
    expect(await checkRedisPersistence(redis)).toEqual({
      name: "redis persistence",
      status: "fail",
      detail: expect.stringMatching(
        /^AOF disabled and no RDB snapshots.*a job the ingest acknowledged is lost/,
      ),
      advice: expect.stringContaining("`CONFIG SET appendonly yes`"),
    });
  });

  it("no AOF and no RDB on a dev box → a warning, still saying what to change", async () => {
    const redis = await connect(cache);
    expect(await checkRedisPersistence(redis, { dev: true })).toEqual({
      name: "redis persistence",
      status: "warn",
      detail: expect.stringMatching(/^AOF disabled and no RDB snapshots.*development box/),
      advice: expect.stringContaining("`CONFIG SET appendonly yes`"),
    });
  });

  it("call RDB-only persistence a warning, dev box or not", async () => {
    const redis = await connect(cache);
    await redis.config("SET", "save", "3600 1");
    try {
      for (const options of [{}, { dev: true }]) {
        expect(await checkRedisPersistence(redis, options)).toMatchObject({
          status: "warn",
          detail: expect.stringContaining("RDB snapshots only (save 3600 1)"),
        });
      }
    } finally {
      await redis.config("SET", "save", "");
    }
  });
});

describe("the PostgreSQL checks", () => {
  let migrated: TestDatabase;
  let empty: TestDatabase;
  beforeAll(async () => {
    [migrated, empty] = await Promise.all([
      createTestDatabase("cli_doctor"),
      createTestDatabase("cli_doctor_empty", { migrate: false }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([migrated.drop(), empty.drop()]);
  });

  it("know the code's migrations without touching a database", () => {
    expect(migrationNames[0]).toBe("0001-initial");
    expect(migrationNames).toEqual([...migrationNames].sort());
  });

  it("pass on a migrated database", async () => {
    expect(await checkPostgres(migrated.db, "here")).toEqual({
      name: "postgres",
      status: "ok",
      detail: expect.stringMatching(/^PostgreSQL \d+(\.\d+)* at here$/),
    });
    expect(await checkMigrations(migrated.db)).toEqual({
      name: "migrations",
      status: "ok",
      detail: "up to date",
    });
  });

  it("fail on pending migrations, without creating anything, and say to migrate", async () => {
    const db = openDatabase({ url: empty.url, connectTimeoutMs: 2000 });
    try {
      expect(await checkMigrations(db)).toEqual({
        name: "migrations",
        status: "fail",
        detail: `${String(migrationNames.length)} pending: ${migrationNames.join(", ")}`,
        advice: expect.stringContaining("run `pnpm db:migrate`"),
      });
      // Read-only: not even kysely's migration tables were created.
      expect(await db.introspection.getTables({ withInternalKyselyTables: true })).toEqual([]);
      expect(await listPendingMigrations(migrated.db)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});

describe("the SMTP check", () => {
  let smtp: SmtpCatcher;
  beforeAll(async () => {
    smtp = await startSmtpCatcher();
  });
  afterAll(async () => {
    await smtp.stop();
  });

  it("passes when the server answers EHLO", async () => {
    expect(await checkSmtp(smtp.url, "here", 2000)).toEqual({
      name: "smtp",
      status: "ok",
      detail: "here answers EHLO",
    });
  });

  it("fails on a closed port, with advice", async () => {
    const url = `smtp://127.0.0.1:${String(await freePort())}`;
    expect(await checkSmtp(url, "there", 2000)).toEqual({
      name: "smtp",
      status: "fail",
      detail: expect.stringContaining("ECONNREFUSED"),
      advice: expect.stringContaining("SMTP_URL"),
    });
  });
});

describe("the webhook secret check", () => {
  it("warns when it is unset or the public demo secret, never printing a secret", () => {
    expect(checkWebhookSecrets(undefined)).toMatchObject({ status: "warn" });
    expect(checkWebhookSecrets(" , ")).toMatchObject({ status: "warn" });
    const demo = checkWebhookSecrets("whsec_new,whsec_local_demo_secret_change_me");
    expect(demo).toMatchObject({ status: "warn", advice: expect.stringContaining("dashboard") });
    expect(JSON.stringify(demo)).not.toContain("whsec_");
    const real = checkWebhookSecrets("whsec_abc123,whsec_def456");
    expect(real).toEqual({
      name: "webhook secret",
      status: "ok",
      detail: "2 secret(s) configured",
    });
  });
});

describe("fault: Redis refuses the password", () => {
  it("a Redis with requirepass, reached without a password and with a wrong one → one failed line each, about the credentials, not 'start Redis'", async () => {
    const server = await startRedisServer({ args: ["--requirepass", "right-secret"] });
    try {
      const url = new URL(server.url);
      for (const password of [undefined, "wrong-secret"]) {
        const results = await redisChecks(
          { mode: "single", url: url.toString(), auth: { password } },
          2_000,
        );
        expect(results).toHaveLength(1);
        expect(results[0]).toMatchObject({
          name: "redis",
          status: "fail",
          detail: expect.stringMatching(/refused the credentials: (NOAUTH|WRONGPASS)/),
          advice: expect.stringContaining("REDIS_PASSWORD"),
        });
        expect(JSON.stringify(results)).not.toContain("wrong-secret");
      }
    } finally {
      await server.stop();
    }
  });
});

describe("runDoctor", () => {
  it("a role PostgreSQL does not know → postgres fails with advice about DATABASE_URL's user and password, not 'start PostgreSQL'", async () => {
    const admin = new URL(
      process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    );
    admin.username = `no_such_role_${String(process.pid)}`;
    admin.password = "not-the-password";
    const results = await runDoctor({
      redis: { mode: "single", url: `redis://127.0.0.1:${String(await freePort())}` },
      databaseUrl: admin.toString(),
      smtpUrl: `smtp://127.0.0.1:${String(await freePort())}`,
      webhookSecrets: "whsec_abc123",
      timeoutMs: 2000,
    });
    const postgres = results.find((result) => result.name === "postgres");
    expect(postgres).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(
        /role "no_such_role_\d+" does not exist|password authentication failed/,
      ),
      advice: expect.stringContaining("DATABASE_URL"),
    });
    expect(postgres?.advice).toMatch(/user and password/);
    expect(postgres?.advice).not.toMatch(/^start PostgreSQL/);
    expect(JSON.stringify(results)).not.toContain("not-the-password");
  });

  it("gives up on services that accept a connection and never answer", async () => {
    const silent = await startSilentServer();
    const url = (scheme: string) => `${scheme}://127.0.0.1:${String(silent.port)}/x`;
    try {
      const started = Date.now();
      const results = await runDoctor({
        redis: { mode: "single", url: url("redis") },
        databaseUrl: url("postgres"),
        smtpUrl: url("smtp"),
        webhookSecrets: "whsec_abc123",
        timeoutMs: 300,
      });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(results.map(({ name, status }) => [name, status])).toEqual([
        ["redis", "fail"],
        ["postgres", "fail"],
        ["smtp", "fail"],
        ["webhook secret", "ok"],
      ]);
      for (const result of results.slice(0, 3)) expect(result.advice).toBeDefined();
    } finally {
      await silent.close();
    }
  });
});
