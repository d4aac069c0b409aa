import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendCommand } from "../src/commands/send.ts";
import { DEFAULT_PREFIX, parseConnectionConfig } from "../src/connection-options.ts";
import { cliEnv, LOCAL_PREFIX, loadEnvFiles, REPOSITORY_ROOT } from "../src/env-files.ts";
import { runCommand } from "./send-run.ts";
import { SECRET, startIngest, type Ingest } from "./simulate-relay.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-env-files-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh folder under `dir` holding `files` (name → content). */
async function folderWith(name: string, files: Record<string, string>): Promise<string> {
  const folder = await mkdtemp(join(dir, `${name}-`));
  for (const [file, content] of Object.entries(files)) await writeFile(join(folder, file), content);
  return folder;
}

describe("loadEnvFiles", () => {
  it("the repository root is the one holding .env.example and pnpm-workspace.yaml", () => {
    expect(existsSync(join(REPOSITORY_ROOT, ".env.example"))).toBe(true);
    expect(existsSync(join(REPOSITORY_ROOT, "pnpm-workspace.yaml"))).toBe(true);
  });

  it(".env and .env.example both present → only .env is read", async () => {
    const folder = await folderWith("both", {
      ".env": "FANFARE_WEBHOOK_SECRETS=whsec_from_env_file\n",
      ".env.example": "FANFARE_WEBHOOK_SECRETS=whsec_example\nREDIS_PREFIX=example\n",
    });
    expect(loadEnvFiles(folder)).toEqual({
      file: join(folder, ".env"),
      values: { FANFARE_WEBHOOK_SECRETS: "whsec_from_env_file" },
    });
  });

  it("only .env.example → its values", async () => {
    const folder = await folderWith("example", { ".env.example": "REDIS_PREFIX=example\n" });
    expect(loadEnvFiles(folder)).toEqual({
      file: join(folder, ".env.example"),
      values: { REDIS_PREFIX: "example" },
    });
  });

  it("neither file → no file, no values", async () => {
    const folder = await folderWith("none", {});
    expect(loadEnvFiles(folder)).toEqual({ file: undefined, values: {} });
  });

  it("comments, quotes, export and inline comments → parsed as util.parseEnv does", async () => {
    const folder = await folderWith("syntax", {
      ".env": [
        "# a comment",
        "A=plain",
        'B="double quoted # not a comment"',
        "C='single'",
        "D=value # inline comment",
        "export E=exported",
        "# F=commented out",
        "G=",
      ].join("\n"),
    });
    expect(loadEnvFiles(folder).values).toEqual({
      A: "plain",
      B: "double quoted # not a comment",
      C: "single",
      D: "value",
      E: "exported",
      G: "",
    });
  });

  it("a variable in the environment and the file → the environment's, even when empty", async () => {
    const folder = await folderWith("precedence", {
      ".env": "REDIS_PREFIX=file\nSMTP_URL=smtp://file:25\nDATABASE_URL=postgres://file/db\n",
    });
    const env = cliEnv(folder, { REDIS_PREFIX: "environment", SMTP_URL: "" });
    expect(env).toMatchObject({
      REDIS_PREFIX: "environment",
      SMTP_URL: "",
      DATABASE_URL: "postgres://file/db",
    });
  });
});

describe("the CLI's Redis prefix", () => {
  const prefixOf = (env: NodeJS.ProcessEnv) => parseConnectionConfig(["prefix"], {}, env).prefix;

  it("a .env of one's own without REDIS_PREFIX → pnpm start's fanfare-local, not fanfare", async () => {
    const folder = await folderWith("own-env", {
      ".env": "FANFARE_WEBHOOK_SECRETS=whsec_mine\n",
      ".env.example": "REDIS_PREFIX=from-example\n",
    });
    expect(LOCAL_PREFIX).toBe("fanfare-local");
    expect(prefixOf(cliEnv(folder, {}))).toBe(LOCAL_PREFIX);
    // Empty counts as unset, in the file and in the environment, as for pnpm start.
    expect(prefixOf(cliEnv(folder, { REDIS_PREFIX: "" }))).toBe(LOCAL_PREFIX);
    const emptyInFile = await folderWith("empty-prefix", { ".env": "REDIS_PREFIX=\n" });
    expect(prefixOf(cliEnv(emptyInFile, {}))).toBe(LOCAL_PREFIX);
  });

  it("REDIS_PREFIX in the file or the environment → that one; the --prefix flag over both", async () => {
    const folder = await folderWith("set-prefix", { ".env": "REDIS_PREFIX=shared-dev\n" });
    expect(prefixOf(cliEnv(folder, {}))).toBe("shared-dev");
    expect(prefixOf(cliEnv(folder, { REDIS_PREFIX: "mine" }))).toBe("mine");
    expect(parseConnectionConfig(["prefix"], { prefix: "flag" }, cliEnv(folder, {})).prefix).toBe(
      "flag",
    );
  });

  it("the repository's own .env.example → fanfare-local", () => {
    expect(prefixOf(cliEnv(REPOSITORY_ROOT, {}))).toBe(LOCAL_PREFIX);
  });

  it("neither file (no local system to agree with) → the apps' default, fanfare", async () => {
    const folder = await folderWith("no-files", {});
    expect(cliEnv(folder, {}).REDIS_PREFIX).toBeUndefined();
    expect(prefixOf(cliEnv(folder, {}))).toBe(DEFAULT_PREFIX);
  });
});

describe("the CLI's configuration from .env", () => {
  let ingest: Ingest;

  beforeAll(async () => {
    ingest = await startIngest("cli-env-files");
  });

  afterAll(async () => {
    await ingest.close();
  });

  it("send with the secret and URL only in .env → signed with it, 200", async () => {
    const folder = await folderWith("send", {
      ".env": `FANFARE_WEBHOOK_SECRETS=${SECRET}\nFANFARE_INGEST_URL=${ingest.url}\n`,
      ".env.example": "FANFARE_WEBHOOK_SECRETS=whsec_local_demo_secret_change_me\n",
    });
    const { lines, error } = await runCommand(sendCommand(cliEnv(folder, {})), [
      "send",
      "queue.consumer_entered",
    ]);
    expect(error).toBeUndefined();
    expect(lines[0]).toMatch(/^200 /);
  });

  it("send with a wrong secret in .env and the right one in the environment → 200", async () => {
    const folder = await folderWith("send-override", {
      ".env": `FANFARE_WEBHOOK_SECRETS=whsec_wrong_secret\nFANFARE_INGEST_URL=${ingest.url}\n`,
    });
    const env = cliEnv(folder, { FANFARE_WEBHOOK_SECRETS: SECRET });
    const { lines, error } = await runCommand(sendCommand(env), ["send", "queue.consumer_entered"]);
    expect(error).toBeUndefined();
    expect(lines[0]).toMatch(/^200 /);
  });

  it("REDIS_CLUSTER_NODES in the environment, REDIS_URL in the file → the cluster only, not two modes", async () => {
    const folder = await mkdtemp(join(tmpdir(), "cli-env-modes-"));
    try {
      await writeFile(join(folder, ".env"), "REDIS_URL=redis://127.0.0.1:6379\nREDIS_PREFIX=x\n");
      const env = cliEnv(folder, { REDIS_CLUSTER_NODES: "127.0.0.1:7000" });
      expect(env.REDIS_URL).toBeUndefined();
      expect(env).toMatchObject({ REDIS_CLUSTER_NODES: "127.0.0.1:7000", REDIS_PREFIX: "x" });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
