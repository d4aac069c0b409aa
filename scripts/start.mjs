// Starts the whole system on this machine: every app as its own process, with prefixed logs.
// Configuration: the environment, then .env, then .env.example (local demo defaults).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const apps = [{ name: "ingest", dir: "apps/ingest", color: 36 }];

function loadDotEnv() {
  const file = [".env", ".env.example"].map((f) => `${root}${f}`).find((f) => existsSync(f));
  return file
    ? { file, values: parseEnv(readFileSync(file, "utf8")) }
    : { file: undefined, values: {} };
}

function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

function prefixed(name, color, stream, out) {
  let pending = "";
  stream.on("data", (chunk) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) out.write(`\x1b[${color}m[${name}]\x1b[0m ${line}\n`);
  });
}

const { file, values } = loadDotEnv();
const env = { ...values, ...process.env };
const children = [];
let localRedis;

if (!(await reachable(env.REDIS_URL ?? "redis://127.0.0.1:6379"))) {
  const url = new URL(env.REDIS_URL ?? "redis://127.0.0.1:6379");
  if (!["127.0.0.1", "localhost"].includes(url.hostname)) {
    console.error(
      `Redis at ${url.host} is unreachable. Start it, or unset REDIS_URL to run one locally.`,
    );
    process.exit(1);
  }
  const redis = spawn(
    "redis-server",
    [
      "--port",
      url.port || "6379",
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxmemory-policy",
      "noeviction",
    ],
    // Its own process group: Ctrl-C reaches the apps first, Redis is stopped after them.
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  redis.once("error", () => {
    console.error(
      "No Redis is reachable and redis-server is not installed.\n" +
        "Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n" +
        "or point REDIS_URL at a running Redis 7.",
    );
    process.exit(1);
  });
  prefixed("redis", 90, redis.stdout, process.stdout);
  localRedis = redis;
  while (!(await reachable(url.toString()))) await new Promise((r) => setTimeout(r, 100));
}

for (const app of apps) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: `${root}${app.dir}`,
    env: { ...env, SHUTDOWN_DRAIN_DELAY_MS: env.SHUTDOWN_DRAIN_DELAY_MS ?? "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  prefixed(app.name, app.color, child.stdout, process.stdout);
  prefixed(app.name, app.color, child.stderr, process.stderr);
  child.once("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[${app.name}] exited (${signal ?? code}); stopping everything`);
      stop(1);
    }
  });
  children.push(child);
}

const port = env.PORT ?? "3000";
console.log(
  `\nfanfare-relay is starting (config: ${env.FANFARE_WEBHOOK_SECRETS === values.FANFARE_WEBHOOK_SECRETS ? file : "environment"})\n` +
    `  webhooks  POST http://localhost:${port}/webhooks/fanfare\n` +
    `  health    http://localhost:${port}/healthz  http://localhost:${port}/readyz\n` +
    `  metrics   http://localhost:${port}/metrics\n` +
    `Press Ctrl-C to stop.\n`,
);

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  const done = () => {
    if (localRedis && localRedis.exitCode === null) {
      localRedis.once("exit", () => process.exit(code));
      localRedis.kill("SIGTERM");
    } else process.exit(code);
  };
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  let left = alive.length;
  if (left === 0) return done();
  for (const child of alive) {
    child.once("exit", () => --left === 0 && done());
    child.kill("SIGINT");
  }
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
