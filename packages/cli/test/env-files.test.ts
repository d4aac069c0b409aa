import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendCommand } from "../src/commands/send.ts";
import { cliEnv, loadEnvFiles, REPOSITORY_ROOT } from "../src/env-files.ts";
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
