import { describe, expect, it } from "vitest";
import { LOCAL_DEMO_SECRET } from "@fanfare-relay/config/demo-secret";
import { redisTargetOf } from "@fanfare-relay/config/redis-env";
import { ConfigError, loadEnv } from "../src/env.ts";

describe("loadEnv", () => {
  it("applies documented defaults", () => {
    const env = loadEnv({ FANFARE_WEBHOOK_SECRETS: "whsec_a" });
    expect(env).toMatchObject({
      FANFARE_WEBHOOK_SECRETS: ["whsec_a"],
      REDIS_PREFIX: "fanfare",
      PORT: 3000,
      HOST: "0.0.0.0",
      BODY_LIMIT_BYTES: 1_048_576,
      SIGNATURE_TOLERANCE_SECONDS: 300,
      TRUST_PROXY: false,
      COMPLETED_RETENTION_SECONDS: 604_800,
      LOG_LEVEL: "info",
    });
    expect(env.FAILED_RETENTION_SECONDS).toBeUndefined();
    expect(redisTargetOf(env)).toMatchObject({ mode: "single", url: "redis://127.0.0.1:6379" });
  });

  it("splits and trims rotated secrets", () => {
    const env = loadEnv({ FANFARE_WEBHOOK_SECRETS: " whsec_new , whsec_old ,," });
    expect(env.FANFARE_WEBHOOK_SECRETS).toEqual(["whsec_new", "whsec_old"]);
  });

  it("reads trust proxy as a boolean, a hop count or an address list", () => {
    const base = { FANFARE_WEBHOOK_SECRETS: "s" };
    expect(loadEnv({ ...base, TRUST_PROXY: "true" }).TRUST_PROXY).toBe(true);
    expect(loadEnv({ ...base, TRUST_PROXY: "10.0.0.0/8,127.0.0.1" }).TRUST_PROXY).toBe(
      "10.0.0.0/8,127.0.0.1",
    );
    const hops = loadEnv({ ...base, TRUST_PROXY: "1" }).TRUST_PROXY;
    expect(typeof hops).toBe("function");
    if (typeof hops === "function") {
      expect(hops("10.0.0.1", 0)).toBe(true);
      expect(hops("10.0.0.1", 1)).toBe(false);
    }
  });

  it("treats empty values as unset", () => {
    expect(loadEnv({ FANFARE_WEBHOOK_SECRETS: "s", PORT: "" }).PORT).toBe(3000);
  });

  it("reports every problem at once, naming the variables and never echoing secrets", () => {
    let error: unknown;
    try {
      loadEnv({
        REDIS_URL: "http://x",
        PORT: "abc",
        COMPLETED_RETENTION_SECONDS: "60",
        SIGNATURE_TOLERANCE_SECONDS: "0",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      "FANFARE_WEBHOOK_SECRETS",
      "REDIS_URL",
      "PORT",
      "COMPLETED_RETENTION_SECONDS",
      "SIGNATURE_TOLERANCE_SECONDS",
    ]) {
      expect(message).toContain(name);
    }
  });

  it("refuses an empty secret list", () => {
    expect(() => loadEnv({ FANFARE_WEBHOOK_SECRETS: " , " })).toThrow(/at least one secret/);
  });
});

describe("guarantee: the public demo secret is refused in production", () => {
  it("NODE_ENV=production with .env.example's secret (alone or among others) → one error naming FANFARE_WEBHOOK_SECRETS; without NODE_ENV=production it is accepted", () => {
    for (const secrets of [LOCAL_DEMO_SECRET, `whsec_real_one, ${LOCAL_DEMO_SECRET}`]) {
      expect(() => loadEnv({ FANFARE_WEBHOOK_SECRETS: secrets, NODE_ENV: "production" })).toThrow(
        /FANFARE_WEBHOOK_SECRETS: holds the public demo secret/,
      );
      expect(loadEnv({ FANFARE_WEBHOOK_SECRETS: secrets }).FANFARE_WEBHOOK_SECRETS).toContain(
        LOCAL_DEMO_SECRET,
      );
    }
    expect(
      loadEnv({ FANFARE_WEBHOOK_SECRETS: "whsec_real_one", NODE_ENV: "production" })
        .FANFARE_WEBHOOK_SECRETS,
    ).toEqual(["whsec_real_one"]);
  });
});

describe("where Redis is", () => {
  const base = { FANFARE_WEBHOOK_SECRETS: "s" };
  const problems = (env: Record<string, string>) => {
    try {
      loadEnv({ ...base, ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error("no ConfigError");
  };

  it("REDIS_CLUSTER_NODES with credentials and TLS → a cluster target with every seed", () => {
    const env = loadEnv({
      ...base,
      REDIS_CLUSTER_NODES: "10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002",
      REDIS_USERNAME: "relay",
      REDIS_PASSWORD: "pw",
      REDIS_TLS: "true",
    });
    expect(redisTargetOf(env)).toEqual({
      mode: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
        { host: "::1", port: 7002 },
      ],
      auth: { username: "relay", password: "pw", tls: true },
    });
  });

  it("REDIS_SENTINELS and REDIS_SENTINEL_MASTER → a Sentinel target", () => {
    const env = loadEnv({
      ...base,
      REDIS_SENTINELS: "s1:26379,s2:26379",
      REDIS_SENTINEL_MASTER: "fanfare",
      REDIS_SENTINEL_PASSWORD: "spw",
    });
    expect(redisTargetOf(env)).toMatchObject({
      mode: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      masterName: "fanfare",
      sentinelPassword: "spw",
    });
  });

  it("REDIS_URL and REDIS_CLUSTER_NODES both set → one error naming both, never the password", () => {
    const message = problems({
      REDIS_URL: "redis://:hunter2@127.0.0.1:6379",
      REDIS_CLUSTER_NODES: "127.0.0.1:7000",
    });
    expect(message).toMatch(/set one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS/);
    expect(message).not.toContain("hunter2");
  });

  it("a node without a port, a port past 65535, Sentinels without a master name → each named", () => {
    expect(problems({ REDIS_CLUSTER_NODES: "127.0.0.1:7000,redis-b" })).toMatch(
      /REDIS_CLUSTER_NODES: must be a comma-separated list of host:port \("redis-b" is not\)/,
    );
    expect(problems({ REDIS_CLUSTER_NODES: "h:70000" })).toMatch(/REDIS_CLUSTER_NODES/);
    const url = problems({ REDIS_CLUSTER_NODES: "redis://:hunter2@10.0.0.1:7000" });
    expect(url).toMatch(
      /REDIS_CLUSTER_NODES: must be a comma-separated list of host:port, not URLs/,
    );
    expect(url).not.toContain("hunter2");
    expect(problems({ REDIS_SENTINELS: "127.0.0.1:26379" })).toMatch(
      /REDIS_SENTINEL_MASTER: is required with REDIS_SENTINELS/,
    );
  });

  it("REDIS_PREFIX with a hash tag of its own ({fanfare}) → refused: each queue gets its own", () => {
    expect(problems({ REDIS_PREFIX: "{fanfare}" })).toMatch(
      /REDIS_PREFIX: must not contain \{ or \}/,
    );
  });
});
