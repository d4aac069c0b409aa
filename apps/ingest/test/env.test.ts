import { describe, expect, it } from "vitest";
import { ConfigError, loadEnv } from "../src/env.ts";

describe("loadEnv", () => {
  it("applies documented defaults", () => {
    const env = loadEnv({ FANFARE_WEBHOOK_SECRETS: "whsec_a" });
    expect(env).toMatchObject({
      FANFARE_WEBHOOK_SECRETS: ["whsec_a"],
      REDIS_URL: "redis://127.0.0.1:6379",
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
