// Starts the whole system on this machine: every app as its own process, with prefixed logs.
// Configuration: the environment, then .env, then .env.example (local demo defaults).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const families = ["queue", "draw", "auction", "experience", "consumer"];
const apps = [
  { name: "ingest", dir: "apps/ingest", color: 36 },
  ...families.map((family, index) => ({
    name: `worker-${family}`,
    dir: `apps/worker-${family}`,
    color: 32 + (index % 4),
    // Each worker serves /healthz and /metrics on its own port.
    env: { PORT: String(9101 + index) },
  })),
];

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
// Without configured credentials the dashboard runs as a local demo with known logins.
const demoDashboard = !env.DASHBOARD_ADMIN_PASSWORD;
apps.push({
  name: "dashboard",
  dir: "apps/dashboard",
  color: 95,
  env: {
    PORT: env.DASHBOARD_PORT ?? "3001",
    ...(demoDashboard && { DASHBOARD_DEMO: "true" }),
  },
});
const children = [];
const helpers = [];
// Whatever happens to this script, nothing it started outlives it.
process.on("exit", () => {
  for (const child of [...children, ...helpers, localRedis]) {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
});
let localRedis;
let localPglite;
let localMail;

// A cluster or Sentinels are the operator's own: only a single local Redis is started here.
const singleRedis = !env.REDIS_CLUSTER_NODES && !env.REDIS_SENTINELS;
if (singleRedis && !(await reachable(env.REDIS_URL ?? "redis://127.0.0.1:6379"))) {
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

/** Runs a TypeScript entry point with tsx; resolves with the child once `readyText` is printed. */
function runScript(name, color, cwd, script, scriptEnv, readyText) {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: `${root}${cwd}`,
    env: scriptEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  helpers.push(child);
  prefixed(name, color, child.stdout, process.stdout);
  prefixed(name, color, child.stderr, process.stderr);
  if (readyText === undefined) return { child, ready: Promise.resolve("") };
  const ready = new Promise((resolve, reject) => {
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk.toString();
      const line = seen.split("\n").find((l) => l.includes(readyText));
      if (line) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
  return { child, ready };
}

let database = env.DATABASE_URL;
if (database === undefined || database === "") {
  // One embedded PostgreSQL (PGlite) for every app, persisted under .data/pglite; the host
  // migrates it before it accepts connections.
  const pglite = runScript(
    "pglite",
    90,
    "packages/db",
    "src/bin/pglite-host.ts",
    { ...env, PGLITE_DATA_DIR: env.PGLITE_DATA_DIR ?? `${root}.data/pglite` },
    "pglite listening on",
  );
  localPglite = pglite.child;
  try {
    const line = await pglite.ready;
    database = /(postgres:\/\/\S+)/.exec(line)?.[1];
  } catch (error) {
    console.error(String(error));
    localRedis?.kill("SIGTERM");
    process.exit(1);
  }
} else {
  const migrate = runScript("migrate", 90, "packages/db", "src/bin/migrate.ts", env);
  const [code] = await new Promise((resolve) => migrate.child.once("exit", (...a) => resolve(a)));
  if (code !== 0) {
    console.error("database migration failed; fix DATABASE_URL or the database and retry");
    process.exit(1);
  }
}

let smtpUrl = env.SMTP_URL;
if (smtpUrl === undefined || smtpUrl === "") {
  smtpUrl = "smtp://127.0.0.1:1025";
  // Nothing configured: use a catcher already listening there (e.g. Mailpit), or start ours.
  if (!(await reachable(smtpUrl))) {
    const mail = runScript(
      "mail",
      35,
      "packages/testing",
      "src/bin/mail-catcher.ts",
      { ...env, MAIL_CATCHER_DIR: env.MAIL_CATCHER_DIR ?? `${root}.data/mail` },
      "mail catcher listening on",
    );
    localMail = mail.child;
    try {
      await mail.ready;
    } catch (error) {
      console.error(String(error));
      localPglite?.kill("SIGTERM");
      localRedis?.kill("SIGTERM");
      process.exit(1);
    }
  }
}

for (const app of apps) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: `${root}${app.dir}`,
    env: {
      ...env,
      DATABASE_URL: database,
      SMTP_URL: smtpUrl,
      SHUTDOWN_DRAIN_DELAY_MS: env.SHUTDOWN_DRAIN_DELAY_MS ?? "0",
      ...app.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Own process groups: Ctrl-C reaches only this script, which stops each app exactly once
    // (a second signal would make an app skip its graceful shutdown).
    detached: true,
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
    `  dashboard http://localhost:${apps.at(-1).env.PORT}/  ${demoDashboard ? "(demo logins: admin / admin, read-only viewer / viewer)" : ""}\n` +
    `  workers   ${apps
      .filter((app) => app.name.startsWith("worker-"))
      .map((app) => `${app.name} http://localhost:${app.env.PORT}/healthz`)
      .join("\n            ")}\n` +
    `  mail      ${localMail ? `local catcher at ${smtpUrl}, saved as .eml under .data/mail` : smtpUrl}\n` +
    `  database  ${localPglite ? `PGlite (${env.PGLITE_DATA_DIR ?? ".data/pglite"}) at ${database}` : "DATABASE_URL"}\n` +
    `Press Ctrl-C to stop.\n`,
);

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // Apps first, then what they depend on: the database host, then Redis.
  const stopped = (child) => !child || child.exitCode !== null || child.signalCode !== null;
  const stopChild = (child, next) => {
    if (stopped(child)) return next();
    child.once("exit", next);
    child.kill("SIGTERM");
  };
  const done = () =>
    stopChild(localPglite, () =>
      stopChild(localMail, () => stopChild(localRedis, () => process.exit(code))),
    );
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
