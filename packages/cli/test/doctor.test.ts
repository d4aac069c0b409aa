import { freePort } from "@fanfare-relay/testing/free-port";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "./capture-cli.ts";
import {
  CACHE_REDIS,
  HEALTHY_REDIS,
  startConfiguredRedis,
  type ConfiguredRedis,
} from "./configured-redis.ts";

let healthy: ConfiguredRedis;
let cache: ConfiguredRedis;
let migrated: TestDatabase;
let empty: TestDatabase;
let smtp: SmtpCatcher;
beforeAll(async () => {
  [healthy, cache, migrated, empty, smtp] = await Promise.all([
    startConfiguredRedis(HEALTHY_REDIS),
    startConfiguredRedis(CACHE_REDIS),
    createTestDatabase("cli_doctor_cmd"),
    createTestDatabase("cli_doctor_cmd_empty", { migrate: false }),
    startSmtpCatcher(),
  ]);
});
afterAll(async () => {
  await Promise.all([healthy.stop(), cache.stop(), migrated.drop(), empty.drop(), smtp.stop()]);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** `status  name  …` per check, advice lines left out. */
const statuses = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => /^(ok|warn|fail) /.test(line))
    .map((line) => line.split(/ {2,}/).slice(0, 2));

describe("fanfare-relay doctor", () => {
  it("passes, exit 0, on a healthy setup", async () => {
    vi.stubEnv("FANFARE_WEBHOOK_SECRETS", "whsec_from_the_dashboard");
    const run = await runCli([
      "doctor",
      "--redis-url",
      healthy.server.url,
      "--database-url",
      migrated.url,
      "--smtp-url",
      smtp.url,
      "--timeout",
      "3",
    ]);
    expect(run.error).toBeUndefined();
    expect(statuses(run.stdout)).toEqual([
      ["ok", "redis"],
      ["ok", "redis eviction"],
      ["ok", "redis persistence"],
      ["ok", "postgres"],
      ["ok", "migrations"],
      ["ok", "smtp"],
      ["ok", "webhook secret"],
    ]);
    expect(run.stdout).toMatch(/\nall checks passed\n$/);
    expect(run.stdout).not.toContain("whsec_");
  });

  it("fails, exit 1, with advice for each problem", async () => {
    vi.stubEnv("FANFARE_WEBHOOK_SECRETS", "whsec_local_demo_secret_change_me");
    const closedPort = await freePort();
    const run = await runCli([
      "doctor",
      "--redis-url",
      cache.server.url,
      "--database-url",
      empty.url,
      "--smtp-url",
      `smtp://127.0.0.1:${String(closedPort)}`,
      "--timeout",
      "3",
    ]);
    expect(statuses(run.stdout)).toEqual([
      ["ok", "redis"],
      ["fail", "redis eviction"],
      ["fail", "redis persistence"],
      ["ok", "postgres"],
      ["fail", "migrations"],
      ["fail", "smtp"],
      ["warn", "webhook secret"],
    ]);
    for (const advice of [
      "→ run `CONFIG SET maxmemory-policy noeviction`",
      "→ run `CONFIG SET appendonly yes`",
      "pass --dev (or FANFARE_DEV=true) to accept it",
      "→ run `pnpm db:migrate`",
      "→ start the mail server",
      "→ set FANFARE_WEBHOOK_SECRETS",
    ]) {
      expect(run.stdout).toContain(advice);
    }
    // bin.ts prints this as one line and exits 1.
    expect(run.error).toMatchObject({
      code: "CLI_DOCTOR_FAILED",
      message: "4 checks failed, 1 warning",
    });
  });

  it("a Redis without AOF or RDB, --dev or FANFARE_DEV=true → persistence a warning, exit 0", async () => {
    vi.stubEnv("FANFARE_WEBHOOK_SECRETS", "whsec_from_the_dashboard");
    // noeviction, and startRedisServer turns RDB snapshots off (`--save ""`); no AOF.
    const volatile = await startConfiguredRedis(["--maxmemory-policy", "noeviction"]);
    try {
      const args = [
        "doctor",
        "--redis-url",
        volatile.server.url,
        "--database-url",
        migrated.url,
        "--smtp-url",
        smtp.url,
        "--timeout",
        "3",
      ];
      const flagged = await runCli([...args, "--dev"]);
      vi.stubEnv("FANFARE_DEV", "true");
      const fromEnv = await runCli(args);
      for (const run of [flagged, fromEnv]) {
        expect(run.error).toBeUndefined();
        expect(statuses(run.stdout)).toContainEqual(["warn", "redis persistence"]);
        expect(run.stdout).toContain("(accepted on a development box)");
        expect(run.stdout).toMatch(/\nall checks passed, 1 warning\n$/);
      }
    } finally {
      await volatile.stop();
    }
  });

  it("reports an unreachable Redis and PostgreSQL in one line each", async () => {
    const [redisPort, postgresPort] = await Promise.all([freePort(), freePort()]);
    const run = await runCli([
      "doctor",
      "--redis-url",
      `redis://127.0.0.1:${String(redisPort)}`,
      "--database-url",
      `postgres://postgres:secret@127.0.0.1:${String(postgresPort)}/postgres`,
      "--smtp-url",
      smtp.url,
    ]);
    expect(statuses(run.stdout)).toEqual([
      ["fail", "redis"],
      ["fail", "postgres"],
      ["ok", "smtp"],
      ["warn", "webhook secret"],
    ]);
    expect(run.stdout).toContain("ECONNREFUSED");
    expect(run.stdout).toContain("postgres:***@");
    expect(run.stdout).not.toContain("secret@");
    expect(run.error).toMatchObject({ code: "CLI_DOCTOR_FAILED" });
  });
});
