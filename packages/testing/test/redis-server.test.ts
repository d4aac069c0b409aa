import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { hasRedisBinaries } from "../src/redis-binaries.ts";
import { startRedisServer } from "../src/redis-server.ts";

const hasRedis = hasRedisBinaries();

/** The pid of the redis-server on `port`, as it reports it (INFO server). */
async function serverPid(port: number): Promise<number> {
  const admin = new Redis({ port, lazyConnect: true });
  try {
    const info = String(await admin.call("INFO", "server"));
    return Number(/process_id:(\d+)/.exec(info)?.[1]);
  } finally {
    admin.disconnect();
  }
}

describe.skipIf(!hasRedis)("fault: a private redis-server ended from outside", () => {
  it("SIGKILLed by another process, then stop → stop resolves, start serves the same port again", async () => {
    const server = await startRedisServer();
    const pid = await serverPid(server.port);
    process.kill(pid, "SIGKILL");
    // Its exit (by signal, so exitCode stays null) has already been seen before stop() is called.
    await expect
      .poll(
        () => {
          try {
            process.kill(pid, 0);
            return "running";
          } catch {
            return "gone";
          }
        },
        { timeout: 5_000, interval: 20 },
      )
      .toBe("gone");
    await server.stop();
    await server.start();
    expect(await serverPid(server.port)).not.toBe(pid);
    await server.stop();
  });

  it("extra args given → the server runs with them, and stop twice resolves both times", async () => {
    const server = await startRedisServer({ args: ["--maxmemory", "3mb"] });
    const admin = new Redis({ port: server.port, lazyConnect: true });
    try {
      expect(await admin.call("CONFIG", "GET", "maxmemory")).toEqual(["maxmemory", "3145728"]);
    } finally {
      admin.disconnect();
    }
    await server.stop();
    await server.stop();
  });
});

describe("guarantee: hasRedisBinaries names missing binaries", () => {
  it("REDIS_CLI_BIN pointing at no file → false", () => {
    const saved = process.env.REDIS_CLI_BIN;
    process.env.REDIS_CLI_BIN = "/nonexistent/redis-cli";
    try {
      expect(hasRedisBinaries()).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.REDIS_CLI_BIN;
      else process.env.REDIS_CLI_BIN = saved;
    }
  });
});
