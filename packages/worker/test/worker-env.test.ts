import { describe, expect, it } from "vitest";
import { ConfigError, parseWorkerEnv } from "../src/worker-env.ts";

describe("worker settings", () => {
  it("batches default to 50 events or 5 ms, 100 jobs in progress", () => {
    const env = parseWorkerEnv("worker-queue", 9101, {});
    expect(env).toMatchObject({
      WORKER_CONCURRENCY: 100,
      WORKER_BATCH_SIZE: 50,
      WORKER_BATCH_WAIT_MS: 5,
    });
  });

  it("WORKER_BATCH_SIZE 0 and 5000, WORKER_BATCH_WAIT_MS -1 → one error naming all three", () => {
    const parse = () =>
      parseWorkerEnv("worker-queue", 9101, {
        WORKER_BATCH_SIZE: "5000",
        WORKER_BATCH_WAIT_MS: "-1",
      });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/WORKER_BATCH_SIZE[\s\S]*WORKER_BATCH_WAIT_MS/);
    expect(() => parseWorkerEnv("worker-queue", 9101, { WORKER_BATCH_SIZE: "0" })).toThrow(
      /WORKER_BATCH_SIZE/,
    );
  });
});

describe("guarantee: a production worker never falls back to the local stand-ins", () => {
  it("NODE_ENV=production without DATABASE_URL, SMTP_URL and SHOP_URL → one error naming all three; set, or without NODE_ENV=production → accepted", () => {
    expect(() => parseWorkerEnv("worker-queue", 9101, { NODE_ENV: "production" })).toThrow(
      /DATABASE_URL: is required with NODE_ENV=production[\s\S]*SMTP_URL: is required[\s\S]*SHOP_URL: is required/,
    );
    const set = {
      DATABASE_URL: "postgres://db.internal/fanfare",
      SMTP_URL: "smtp://relay.internal:587",
      SHOP_URL: "https://shop.example",
    };
    expect(parseWorkerEnv("worker-queue", 9101, { NODE_ENV: "production", ...set }).SHOP_URL).toBe(
      "https://shop.example",
    );
    expect(() =>
      parseWorkerEnv("worker-queue", 9101, { NODE_ENV: "production", ...set, SHOP_URL: " " }),
    ).toThrow(/SHOP_URL: is required with NODE_ENV=production/);
    expect(parseWorkerEnv("worker-queue", 9101, {}).DATABASE_URL).toBeUndefined();
  });
});
