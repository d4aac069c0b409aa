import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import { hasRedisBinaries } from "@fanfare-relay/testing/redis-binaries";
import { startRedisSentinel, type RedisSentinelSetup } from "@fanfare-relay/testing/redis-sentinel";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "./capture-cli.ts";

const hasRedis = hasRedisBinaries();

/** `[status, name, detail]` per check, advice lines left out. */
const checks = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => /^(ok|warn|fail) /.test(line))
    .map((line) => line.split(/ {2,}/));

describe.skipIf(!hasRedis)("guarantee: the CLI with a primary watched by Sentinel", () => {
  let setup: RedisSentinelSetup;
  let database: TestDatabase;
  let smtp: SmtpCatcher;
  beforeAll(async () => {
    [setup, database, smtp] = await Promise.all([
      startRedisSentinel(),
      createTestDatabase("cli_sentinel"),
      startSmtpCatcher(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([setup.stop(), database.drop(), smtp.stop()]);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("doctor with REDIS_SENTINELS and REDIS_SENTINEL_MASTER → names the primary and checks it, evicting policy → fail", async () => {
    vi.stubEnv("REDIS_SENTINELS", setup.sentinels);
    vi.stubEnv("REDIS_SENTINEL_MASTER", setup.masterName);
    const primary = `127.0.0.1:${String(setup.masterPort)}`;
    const doctor = (...args: string[]) =>
      runCli([
        "doctor",
        "--database-url",
        database.url,
        "--smtp-url",
        smtp.url,
        "--timeout",
        "3",
        ...args,
      ]);

    const production = await doctor();
    expect(checks(production.stdout)[3]).toEqual([
      "fail",
      "redis persistence",
      expect.stringMatching(`^${primary}: AOF disabled and no RDB snapshots`),
    ]);
    expect(production.error).toMatchObject({
      code: "CLI_DOCTOR_FAILED",
      message: /^1 check failed/,
    });

    const healthy = await doctor("--dev");
    expect(checks(healthy.stdout).slice(0, 4)).toEqual([
      ["ok", "redis sentinel", `Sentinel ${setup.masterName}: primary ${primary} (1 replica)`],
      ["ok", "redis", expect.stringMatching(`^Redis \\d+\\.\\d+\\.\\d+ at ${primary}$`)],
      ["ok", "redis eviction", `${primary}: maxmemory-policy noeviction`],
      ["warn", "redis persistence", expect.stringMatching(`^${primary}: AOF disabled`)],
    ]);
    // On a dev box only the missing webhook secret and the primary's persistence: warnings.
    expect(healthy.error).toBeUndefined();

    const admin = new Redis({ port: setup.masterPort, maxRetriesPerRequest: 1 });
    try {
      await admin.config("SET", "maxmemory-policy", "volatile-lru");
      const evicting = await doctor("--dev");
      expect(checks(evicting.stdout)[2]).toEqual([
        "fail",
        "redis eviction",
        expect.stringMatching(`^${primary}: maxmemory-policy is volatile-lru`),
      ]);
      expect(evicting.error).toMatchObject({ code: "CLI_DOCTOR_FAILED" });
    } finally {
      await admin.config("SET", "maxmemory-policy", "noeviction");
      admin.disconnect();
    }
  });

  it("a master name the Sentinels do not monitor → one failed redis line with advice", async () => {
    const run = await runCli([
      "doctor",
      "--redis-sentinels",
      setup.sentinels,
      "--redis-sentinel-master",
      "no-such-master",
      "--database-url",
      database.url,
      "--smtp-url",
      smtp.url,
      "--timeout",
      "2",
    ]);
    const [redis] = checks(run.stdout);
    expect(redis?.slice(0, 2)).toEqual(["fail", "redis"]);
    expect(redis?.[2]).toContain('Redis primary "no-such-master" of Sentinels');
    expect(redis?.[2]).toContain("No such master with that name");
    expect(run.stdout).toContain("→ start the Sentinels");
    expect(run.error).toMatchObject({ code: "CLI_DOCTOR_FAILED" });
  });
});
