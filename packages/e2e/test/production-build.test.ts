import { freePort } from "@fanfare-relay/testing/free-port";
import { createTestDatabase, type TestDatabase } from "@fanfare-relay/testing/postgres";
import {
  connectTestRedis,
  deleteKeys,
  testRedisUrl,
  uniquePrefix,
} from "@fanfare-relay/testing/redis";
import { startSmtpCatcher, type SmtpCatcher } from "@fanfare-relay/testing/smtp-catcher";
import { spawnApp, type RunningApp } from "@fanfare-relay/testing/spawn-app";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// What the Dockerfile does, without Docker: `node scripts/build-app.mjs <app> <dir>` (tsc to dist/,
// then `pnpm deploy --prod`), and the image's command, `node dist/main.js` with NODE_ENV=production.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const apps = [
  "ingest",
  "dashboard",
  "worker-queue",
  "worker-draw",
  "worker-auction",
  "worker-experience",
  "worker-consumer",
];
const out = mkdtempSync(join(tmpdir(), "fanfare-artifacts-"));
const prefix = uniquePrefix("artifact");
let database: TestDatabase;
let unmigrated: TestDatabase;
let smtp: SmtpCatcher;

beforeAll(async () => {
  [database, unmigrated, smtp] = await Promise.all([
    createTestDatabase("artifact"),
    createTestDatabase("artifact_migrate", { migrate: false }),
    startSmtpCatcher(),
  ]);
}, 30_000);

afterAll(async () => {
  rmSync(out, { recursive: true, force: true });
  const redis = connectTestRedis();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await Promise.all([database.drop(), unmigrated.drop(), smtp.stop()]);
}, 30_000);

/** Only what the image needs to start this app, as an operator would set it. */
function envFor(app: string, port: number): Record<string, string> {
  const common = {
    NODE_ENV: "production",
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
  };
  if (app === "ingest") return { ...common, FANFARE_WEBHOOK_SECRETS: "whsec_artifact_test" };
  if (app === "dashboard") {
    return {
      ...common,
      DATABASE_URL: database.url,
      DASHBOARD_ADMIN_USER: "ops",
      DASHBOARD_ADMIN_PASSWORD: "artifact-admin-password",
      DASHBOARD_SESSION_SECRET: "artifact-session-secret-0123456789abcdef",
    };
  }
  return {
    ...common,
    DATABASE_URL: database.url,
    SMTP_URL: smtp.url,
    SHOP_URL: "https://shop.test",
    MAIL_FROM: "Shop <s@s.test>",
  };
}

/** Every package folder name under a pnpm node_modules/.pnpm store (name@version…). */
const storeEntries = (dir: string) => readdirSync(join(dir, "node_modules", ".pnpm"));

describe("guarantee: each app's production build starts as the image runs it", () => {
  it.each(apps)(
    "%s: built with tsc and deployed with production dependencies only → node dist/main.js answers /healthz 200, stops on SIGTERM with exit 0",
    async (app) => {
      const dir = join(out, app);
      const build = spawnSync(process.execPath, ["scripts/build-app.mjs", app, dir], {
        cwd: root,
        encoding: "utf8",
      });
      expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);

      // Compiled JavaScript only: no sources, no tests, no TypeScript loader or test runner.
      expect(readdirSync(dir).sort()).toEqual(
        ["dist", "node_modules", "package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"].sort(),
      );
      expect(existsSync(join(dir, "dist", "main.js"))).toBe(true);
      const store = storeEntries(dir);
      for (const devOnly of ["tsx@", "vitest@", "esbuild@", "@fanfare-relay+testing"]) {
        expect(
          store.filter((entry) => entry.startsWith(devOnly)),
          devOnly,
        ).toEqual([]);
      }
      const workspace = store.filter((entry) => entry.startsWith("@fanfare-relay+"));
      expect(workspace.length).toBeGreaterThan(0);
      for (const entry of workspace) {
        const name = entry.split("@file")[0]?.replace("+", "/") ?? entry;
        const packageDir = join(dir, "node_modules", ".pnpm", entry, "node_modules", name);
        const files = readdirSync(packageDir).filter((file) => file !== "node_modules");
        expect(files.sort(), name).toEqual(["dist", "package.json"]);
      }

      const port = await freePort();
      const proc: RunningApp = spawnApp(dir, envFor(app, port), { args: ["dist/main.js"] });
      const exited = once(proc.child, "exit") as Promise<[number | null, string | null]>;
      try {
        const healthy = (async () => {
          for (;;) {
            const status = await fetch(`http://127.0.0.1:${port}/healthz`).then(
              (response) => response.status,
              () => 0,
            );
            if (status === 200) return;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        })();
        const died = exited.then(([code]) => {
          throw new Error(`${app} exited with ${String(code)} before /healthz:\n${proc.output()}`);
        });
        await Promise.race([healthy, died]);
      } finally {
        proc.child.kill("SIGTERM");
      }
      const [code] = await exited;
      expect(code, proc.output()).toBe(0);
      expect(proc.output()).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|ERR_MODULE_NOT_FOUND/);
    },
    300_000,
  );

  it("the migrate step as compose runs it in a worker image (node node_modules/@fanfare-relay/db/dist/bin/migrate.js) → exit 0, the schema is there", async () => {
    const dir = join(out, "worker-queue");
    expect(existsSync(join(dir, "dist", "main.js")), "built by the worker-queue case").toBe(true);
    const migrate = spawnSync(
      process.execPath,
      ["node_modules/@fanfare-relay/db/dist/bin/migrate.js"],
      {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", DATABASE_URL: unmigrated.url },
      },
    );
    expect(migrate.status, `${migrate.stdout}\n${migrate.stderr}`).toBe(0);
    const tables = await sql<{
      n: number;
    }>`select count(*)::int as n from information_schema.tables where table_name = 'webhook_events'`.execute(
      unmigrated.db,
    );
    expect(tables.rows[0]?.n).toBe(1);
  }, 60_000);
});
