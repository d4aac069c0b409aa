import { redisTargetOf } from "@fanfare-relay/config/redis-env";
import { describe, expect, it } from "vitest";
import { ConfigError, loadEnv } from "../src/env.ts";

const SECRET = "a-session-secret-of-at-least-32-characters";
const production = {
  DASHBOARD_ADMIN_USER: "ops",
  DASHBOARD_ADMIN_PASSWORD: "s3cret-admin-pass",
  DASHBOARD_SESSION_SECRET: SECRET,
};

function problems(env: Record<string, string>): string {
  try {
    loadEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("loadEnv accepted the configuration");
}

describe("loadEnv", () => {
  it("refuses to start without admin credentials and a session secret, naming both", () => {
    const message = problems({});
    expect(message).toContain("DASHBOARD_ADMIN_USER and DASHBOARD_ADMIN_PASSWORD: are required");
    expect(message).toContain("DASHBOARD_SESSION_SECRET: is required");
    expect(message).toContain("DASHBOARD_DEMO=true");
  });

  it("refuses half a credential, a short password or secret, and a viewer named like the admin", () => {
    expect(problems({ ...production, DASHBOARD_ADMIN_PASSWORD: "" })).toContain(
      "set both or neither",
    );
    expect(problems({ ...production, DASHBOARD_VIEWER_USER: "watcher" })).toContain(
      "DASHBOARD_VIEWER_USER and DASHBOARD_VIEWER_PASSWORD: set both or neither",
    );
    expect(problems({ ...production, DASHBOARD_ADMIN_PASSWORD: "short" })).toContain(
      "DASHBOARD_ADMIN_PASSWORD: must be at least 8 characters",
    );
    expect(problems({ ...production, DASHBOARD_SESSION_SECRET: "too-short" })).toContain(
      "DASHBOARD_SESSION_SECRET: must be at least 32 characters",
    );
    expect(
      problems({
        ...production,
        DASHBOARD_VIEWER_USER: "ops",
        DASHBOARD_VIEWER_PASSWORD: "another-password",
      }),
    ).toContain("must differ");
  });

  it("DASHBOARD_ADMIN_PASSWORD without DASHBOARD_ADMIN_USER → the admin is named admin", () => {
    const { DASHBOARD_ADMIN_USER: _user, ...withoutUser } = production;
    expect(loadEnv(withoutUser).users).toContainEqual(
      expect.objectContaining({ username: "admin", role: "admin" }),
    );
  });

  it("never repeats a value in its message", () => {
    const message = problems({
      ...production,
      DASHBOARD_ADMIN_PASSWORD: "tiny",
      DASHBOARD_SESSION_SECRET: "short-secret-value",
      REDIS_URL: "http://user:hunter2@example.test",
    });
    expect(message).not.toContain("tiny");
    expect(message).not.toContain("short-secret-value");
    expect(message).not.toContain("hunter2");
    expect(message).toContain("REDIS_URL");
  });

  it("reads a production configuration, with defaults", () => {
    const env = loadEnv({
      ...production,
      DASHBOARD_VIEWER_USER: "watcher",
      DASHBOARD_VIEWER_PASSWORD: "viewer-password",
    });
    expect(redisTargetOf(env)).toMatchObject({ mode: "single", url: "redis://127.0.0.1:6379" });
    expect(env).toMatchObject({
      REDIS_PREFIX: "fanfare",
      PORT: 3001,
      HOST: "0.0.0.0",
      TRUST_PROXY: false,
      DASHBOARD_SECURE_COOKIE: false,
      DASHBOARD_DEMO: false,
      DASHBOARD_SESSION_TTL_SECONDS: 28_800,
      DASHBOARD_LOGIN_MAX_FAILURES: 10,
      DASHBOARD_LOGIN_WINDOW_SECONDS: 900,
      LOG_LEVEL: "info",
      sessionSecret: SECRET,
      demoDefaults: [],
    });
    expect(env.users).toEqual([
      { username: "ops", password: "s3cret-admin-pass", role: "admin" },
      { username: "watcher", password: "viewer-password", role: "viewer" },
    ]);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env).not.toHaveProperty("DASHBOARD_ADMIN_PASSWORD");
  });

  it("takes the other settings", () => {
    const env = loadEnv({
      ...production,
      DASHBOARD_SECURE_COOKIE: "true",
      DATABASE_URL: "postgres://fanfare@db:5432/fanfare",
      PORT: "8080",
      REDIS_PREFIX: "relay",
      TRUST_PROXY: "1",
    });
    expect(env.DASHBOARD_SECURE_COOKIE).toBe(true);
    expect(env.DATABASE_URL).toBe("postgres://fanfare@db:5432/fanfare");
    expect(env.PORT).toBe(8080);
    expect(env.REDIS_PREFIX).toBe("relay");
    expect(typeof env.TRUST_PROXY).toBe("function");
    expect(problems({ ...production, DASHBOARD_SECURE_COOKIE: "yes" })).toContain(
      "DASHBOARD_SECURE_COOKIE: must be true or false",
    );
    expect(problems({ ...production, DATABASE_URL: "mysql://db" })).toContain("DATABASE_URL");
  });

  it("REDIS_CLUSTER_NODES → a cluster target; with REDIS_URL too, or a prefix with braces → refused", () => {
    const env = loadEnv({ ...production, REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2:7001" });
    expect(redisTargetOf(env)).toMatchObject({
      mode: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
      ],
    });
    expect(
      problems({
        ...production,
        REDIS_URL: "redis://127.0.0.1:6379",
        REDIS_CLUSTER_NODES: "10.0.0.1:7000",
      }),
    ).toContain("set one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS");
    expect(problems({ ...production, REDIS_PREFIX: "{fanfare}" })).toContain(
      "REDIS_PREFIX: must not contain { or }",
    );
  });

  it("with DASHBOARD_DEMO=true starts without them: demo users and a random session secret", () => {
    const first = loadEnv({ DASHBOARD_DEMO: "true" });
    expect(first.users).toEqual([
      { username: "admin", password: "admin", role: "admin" },
      { username: "viewer", password: "viewer", role: "viewer" },
    ]);
    expect(first.demoDefaults).toEqual(["admin", "viewer", "session secret"]);
    expect(first.sessionSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(loadEnv({ DASHBOARD_DEMO: "true" }).sessionSecret).not.toBe(first.sessionSecret);
  });

  it("in demo mode, credentials that are set are used as they are", () => {
    const env = loadEnv({ ...production, DASHBOARD_DEMO: "true" });
    expect(env.users[0]).toEqual({ username: "ops", password: "s3cret-admin-pass", role: "admin" });
    expect(env.sessionSecret).toBe(SECRET);
    expect(env.demoDefaults).toEqual(["viewer"]);
  });
});

describe("guarantee: the demo logins are refused in production", () => {
  it("DASHBOARD_DEMO=true with NODE_ENV=production → one error naming DASHBOARD_DEMO; without NODE_ENV=production the demo starts", () => {
    expect(() => loadEnv({ DASHBOARD_DEMO: "true", NODE_ENV: "production" })).toThrow(
      /DASHBOARD_DEMO: is refused with NODE_ENV=production/,
    );
    expect(loadEnv({ DASHBOARD_DEMO: "true" }).demoDefaults).toContain("admin");
  });
});
