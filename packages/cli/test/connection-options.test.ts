import { describe, expect, it } from "vitest";
import type { Command } from "commander";
import { parseConnectionConfig } from "../src/connection-options.ts";
import { buildProgram } from "../src/program.ts";
import { runCli } from "./capture-cli.ts";

/** `fanfare-relay <command> --help` as printed (subcommands print their help themselves). */
async function helpOf(command: readonly string[]): Promise<{ stdout: string }> {
  let stdout = "";
  const capture = (program: Command) => {
    program.exitOverride().configureOutput({
      writeOut: (text) => {
        stdout += text;
      },
    });
    for (const sub of program.commands) capture(sub);
  };
  const program = buildProgram();
  capture(program);
  await program.parseAsync([...command, "--help"], { from: "user" }).catch(() => undefined);
  return { stdout };
}

const redisOf = (options: Record<string, string>, env: NodeJS.ProcessEnv = {}) =>
  parseConnectionConfig(["redis"], options, env).redis;

/** The CliError message parseConnectionConfig throws, or "" when it accepts. */
const problemOf = (keys: ("redis" | "prefix")[], options: object, env: NodeJS.ProcessEnv) => {
  try {
    parseConnectionConfig(keys, options, env);
    return "";
  } catch (error) {
    expect(error).toMatchObject({ code: "CLI_BAD_OPTION" });
    return (error as Error).message;
  }
};

describe("the Redis connection options", () => {
  it("nothing set → the local single node, without credentials", () => {
    expect(redisOf({})).toEqual({
      mode: "single",
      url: "redis://127.0.0.1:6379",
      auth: { username: undefined, password: undefined, tls: false },
    });
  });

  it("cluster nodes from the env, credentials and TLS from the env → a cluster target", () => {
    const env = {
      REDIS_CLUSTER_NODES: "10.0.0.1:7000, 10.0.0.2:7000",
      REDIS_USERNAME: "relay",
      REDIS_PASSWORD: "s3cret",
      REDIS_TLS: "true",
      REDIS_URL: "",
    };
    expect(redisOf({}, env)).toEqual({
      mode: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7000 },
      ],
      auth: { username: "relay", password: "s3cret", tls: true },
    });
  });

  it("flags win over the env, and a flag of one mode over the env of another", () => {
    expect(redisOf({ redisUrl: "redis://flag:1" }, { REDIS_URL: "redis://env:2" })).toMatchObject({
      mode: "single",
      url: "redis://flag:1",
    });
    expect(
      redisOf({ redisClusterNodes: "127.0.0.1:7000" }, { REDIS_URL: "redis://env:2" }),
    ).toMatchObject({ mode: "cluster", nodes: [{ host: "127.0.0.1", port: 7000 }] });
    expect(
      redisOf(
        { redisSentinels: "127.0.0.1:26379", redisSentinelMaster: "flagged" },
        {
          REDIS_CLUSTER_NODES: "127.0.0.1:7000",
          REDIS_SENTINEL_MASTER: "from-env",
          REDIS_SENTINEL_PASSWORD: "sentinel-secret",
        },
      ),
    ).toMatchObject({
      mode: "sentinel",
      sentinels: [{ host: "127.0.0.1", port: 26379 }],
      masterName: "flagged",
      sentinelPassword: "sentinel-secret",
    });
    // The master's name alone is no mode: the env's Sentinels stay.
    expect(
      redisOf({ redisSentinelMaster: "flagged" }, { REDIS_SENTINELS: "[::1]:26379" }),
    ).toMatchObject({ mode: "sentinel", sentinels: [{ host: "::1", port: 26379 }] });
  });

  it("two modes, a bad node list, Sentinels without a master → each named by its flag or variable", () => {
    expect(
      problemOf(["redis"], { redisUrl: "redis://x:1", redisClusterNodes: "127.0.0.1:7000" }, {}),
    ).toBe(
      "pass one of --redis-url, --redis-cluster-nodes or --redis-sentinels, not --redis-url and --redis-cluster-nodes",
    );
    expect(
      problemOf(["redis"], {}, { REDIS_URL: "redis://x:1", REDIS_SENTINELS: "127.0.0.1:26379" }),
    ).toMatch(/^set one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, not REDIS_URL and /);
    expect(problemOf(["redis"], { redisClusterNodes: "127.0.0.1:7000,nope" }, {})).toBe(
      '--redis-cluster-nodes must be a comma-separated list of host:port ("nope" is not)',
    );
    expect(problemOf(["redis"], {}, { REDIS_CLUSTER_NODES: "127.0.0.1" })).toBe(
      'REDIS_CLUSTER_NODES must be a comma-separated list of host:port ("127.0.0.1" is not)',
    );
    expect(problemOf(["redis"], { redisSentinels: "127.0.0.1:26379" }, {})).toMatch(
      /^--redis-sentinel-master \(or REDIS_SENTINEL_MASTER\) is required with --redis-sentinels: /,
    );
    expect(problemOf(["redis"], {}, { REDIS_TLS: "maybe" })).toBe(
      "REDIS_TLS must be true or false",
    );
  });

  it("a bad URL, a prefix with braces → refused in one message that never shows a password", () => {
    const message = problemOf(
      ["redis", "prefix"],
      { redisUrl: "http://user:hunter2@127.0.0.1:6379" },
      { REDIS_PREFIX: "{fanfare}", REDIS_PASSWORD: "hunter3" },
    );
    expect(message).toMatch(
      /^--redis-url must be a redis:\/\/ or rediss:\/\/ URL; REDIS_PREFIX must not contain \{ or \}/,
    );
    expect(message).not.toContain("hunter");
    expect(problemOf(["prefix"], { prefix: "a{b}" }, {})).toMatch(
      /^--prefix must not contain \{ or \}/,
    );
    expect(problemOf(["prefix"], { prefix: "" }, {})).toBe("--prefix must not be empty");
  });

  it("a command with two modes → CLI_BAD_OPTION before connecting to anything", async () => {
    const run = await runCli([
      "dead-letters",
      "replay",
      "evt_1",
      "--redis-url",
      "redis://127.0.0.1:1",
      "--redis-sentinels",
      "127.0.0.1:2",
    ]);
    expect(run.error).toMatchObject({
      code: "CLI_BAD_OPTION",
      message:
        "pass one of --redis-url, --redis-cluster-nodes or --redis-sentinels, not --redis-url and --redis-sentinels",
    });
  });

  it("--help of doctor and dead-letters replay → lists the modes' flags and the env-only credentials", async () => {
    for (const command of [["doctor"], ["dead-letters", "replay"]]) {
      const run = await helpOf(command);
      for (const text of [
        "--redis-url <url>",
        "--redis-cluster-nodes <host:port,...>",
        "--redis-sentinels <host:port,...>",
        "--redis-sentinel-master <name>",
        "REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS=true",
        "REDIS_SENTINEL_PASSWORD",
      ]) {
        expect(run.stdout, command.join(" ")).toContain(text);
      }
    }
  });
});
