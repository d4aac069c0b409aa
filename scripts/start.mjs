// Starts the whole system on this machine: every app as its own process, with prefixed logs
// (pretty-printed; LOG_FORMAT=json keeps the apps' JSON lines).
// Configuration: the environment, then .env, then .env.example (local demo defaults).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { createDemoShop, listenDemoShop } from "./demo-shop.mjs";
import { createLineFormatter, logFormatOf, prefixLines } from "./log-format.mjs";
import { DEMO_SHOP_PORT, LOCAL_PREFIX, dashboardUrl } from "./start-config.mjs";

// Node runs the apps' TypeScript sources: tsx, and the workspace packages' sources (README
// "Sources and builds").
const SOURCE_ARGS = ["--conditions=development", "--import", "tsx"];

const root = fileURLToPath(new URL("..", import.meta.url));
const families = ["queue", "draw", "auction", "experience", "consumer"];
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

/** Resolves with the error code (e.g. EADDRINUSE) when `host:port` cannot be listened on, else undefined. */
function listenError(port, host) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error) => resolve(error.code ?? String(error)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Resolves true when whatever listens at `host:port` greets like an SMTP server (220). */
function speaksSmtp(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once("data", (chunk) => (socket.destroy(), resolve(chunk.toString().startsWith("220"))));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

// Colour only on a terminal: piped to a file or jq, the lines stay free of escape codes.
const formatters = new Map();
function formatterFor(out) {
  if (!formatters.has(out)) {
    formatters.set(out, createLineFormatter({ format: logFormat, colorize: Boolean(out.isTTY) }));
  }
  return formatters.get(out);
}

function prefixed(name, color, stream, out) {
  let pending = "";
  const format = formatterFor(out);
  stream.on("data", (chunk) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) out.write(prefixLines(name, color, format(line), Boolean(out.isTTY)));
  });
}

const { file, values } = loadDotEnv();
// Where Redis is, is one choice: a REDIS_CLUSTER_NODES or REDIS_SENTINELS exported in the shell
// replaces the file's REDIS_URL rather than joining it (the apps refuse two at once).
const REDIS_MODES = ["REDIS_URL", "REDIS_CLUSTER_NODES", "REDIS_SENTINELS"];
const fileValues = REDIS_MODES.some((name) => process.env[name])
  ? Object.fromEntries(Object.entries(values).filter(([name]) => !REDIS_MODES.includes(name)))
  : values;
const env = { ...fileValues, ...process.env };
// How the apps' lines are printed: pretty (default) or json (as the apps write them, for jq).
const logFormat = logFormatOf(env.LOG_FORMAT);
if (logFormat === undefined) {
  console.error(`LOG_FORMAT=${env.LOG_FORMAT} is not one of pretty, json.`);
  process.exit(1);
}
// Empty means unset, as for the apps; an explicit prefix (environment or .env) is kept.
const prefixSource = env.REDIS_PREFIX
  ? process.env.REDIS_PREFIX
    ? "environment"
    : file
  : "default";
if (!env.REDIS_PREFIX) env.REDIS_PREFIX = LOCAL_PREFIX;
console.log(
  `fanfare-relay: Redis keys under prefix "${env.REDIS_PREFIX}:" (REDIS_PREFIX, ${prefixSource === "default" ? "pnpm start's default" : `from ${prefixSource}`})`,
);

/** `env[name]` as a TCP port, `fallback` when unset or empty; exits 1 on anything else. */
function portOf(name, fallback) {
  const raw = env[name] === undefined || env[name] === "" ? fallback : env[name];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name}=${raw} is not a TCP port (1-65535).`);
    process.exit(1);
  }
  return port;
}

const host = env.HOST || "0.0.0.0";
const ingestPort = portOf("PORT", "3000");
const workerPortBase = portOf("WORKER_HEALTH_PORT_BASE", "9101");
const dashboardPort = portOf("DASHBOARD_PORT", "3001");
// Without configured credentials the dashboard runs as a local demo with known logins.
const demoDashboard = !env.DASHBOARD_ADMIN_PASSWORD;
const apps = [
  { name: "ingest", dir: "apps/ingest", color: 36, env: { PORT: String(ingestPort) } },
  ...families.map((family, index) => ({
    name: `worker-${family}`,
    dir: `apps/worker-${family}`,
    color: 32 + (index % 4),
    // Each worker serves /healthz and /metrics on its own port.
    env: { PORT: String(workerPortBase + index) },
  })),
  {
    name: "dashboard",
    dir: "apps/dashboard",
    color: 95,
    env: {
      PORT: String(dashboardPort),
      ...(demoDashboard && { DASHBOARD_DEMO: "true" }),
    },
  },
];
const startPglite = !env.DATABASE_URL;
const startMail = !env.SMTP_URL;
const pglitePort = portOf("PGLITE_PORT", "5433");
const pgliteHost = env.PGLITE_HOST || "127.0.0.1";
const mailPort = portOf("MAIL_CATCHER_PORT", "1025");
// Without SHOP_URL the mails' links (checkout, claim, auction) point at a demo shop served here.
const startShop = !env.SHOP_URL;
const shopPort = portOf("DEMO_SHOP_PORT", String(DEMO_SHOP_PORT));

// Every port this script would listen on, checked before anything starts: a taken port names
// the variable that moves it.
const wanted = [
  { port: ingestPort, host, variable: "PORT", what: "ingest" },
  ...families.map((family, index) => ({
    port: workerPortBase + index,
    host,
    variable: "WORKER_HEALTH_PORT_BASE",
    what: `worker-${family} health`,
  })),
  { port: dashboardPort, host, variable: "DASHBOARD_PORT", what: "dashboard" },
  ...(startPglite
    ? [{ port: pglitePort, host: pgliteHost, variable: "PGLITE_PORT", what: "PGlite host" }]
    : []),
  ...(startShop
    ? [{ port: shopPort, host: "127.0.0.1", variable: "DEMO_SHOP_PORT", what: "demo shop" }]
    : []),
];
const problems = [];
const seen = new Map();
for (const item of wanted) {
  const other = seen.get(item.port);
  if (other) {
    problems.push(
      `port ${item.port} is wanted twice: ${other.what} (${other.variable}) and ${item.what} (${item.variable})`,
    );
    continue;
  }
  seen.set(item.port, item);
  const code = await listenError(item.port, item.host);
  if (code) {
    problems.push(
      `port ${item.port} (${item.what}, ${item.host}) is ${code === "EADDRINUSE" ? "already in use" : `not available (${code})`}: stop what uses it or set ${item.variable} to another port`,
    );
  }
}
// A mail catcher already listening (e.g. Mailpit) is used as it is; anything else there is not.
let reuseMail = false;
if (startMail && (await listenError(mailPort, "127.0.0.1"))) {
  reuseMail = await speaksSmtp("127.0.0.1", mailPort);
  if (!reuseMail) {
    problems.push(
      `port ${mailPort} (mail catcher, 127.0.0.1) is in use by something that is not an SMTP server: stop it or set MAIL_CATCHER_PORT to another port`,
    );
  }
}
if (problems.length > 0) {
  console.error(`pnpm start cannot start:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
const children = [];
const helpers = [];
// Whatever happens to this script, nothing it started outlives it.
process.on("exit", () => {
  for (const child of [...children, ...helpers, localRedis]) {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
});
let localRedis;
let demoShop;
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
  const child = spawn(process.execPath, [...SOURCE_ARGS, script], {
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
if (startPglite) {
  // One embedded PostgreSQL (PGlite) for every app, persisted under .data/pglite; the host
  // migrates it before it accepts connections.
  const pglite = runScript(
    "pglite",
    90,
    "packages/db",
    "src/bin/pglite-host.ts",
    {
      ...env,
      PGLITE_DATA_DIR: env.PGLITE_DATA_DIR ?? `${root}.data/pglite`,
      PGLITE_PORT: String(pglitePort),
    },
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
if (startMail) {
  smtpUrl = `smtp://127.0.0.1:${mailPort}`;
  // Nothing configured: use a catcher already listening there (e.g. Mailpit), or start ours.
  if (!reuseMail) {
    const mail = runScript(
      "mail",
      35,
      "packages/testing",
      "src/bin/mail-catcher.ts",
      {
        ...env,
        MAIL_CATCHER_DIR: env.MAIL_CATCHER_DIR ?? `${root}.data/mail`,
        MAIL_CATCHER_PORT: String(mailPort),
      },
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

let shopUrl = env.SHOP_URL;
if (startShop) {
  demoShop = createDemoShop();
  try {
    shopUrl = await listenDemoShop(demoShop, shopPort);
  } catch (error) {
    console.error(`demo shop: cannot listen on 127.0.0.1:${shopPort} (${String(error)})`);
    process.exit(1);
  }
}

for (const app of apps) {
  const child = spawn(process.execPath, [...SOURCE_ARGS, "src/main.ts"], {
    cwd: `${root}${app.dir}`,
    env: {
      ...env,
      DATABASE_URL: database,
      SMTP_URL: smtpUrl,
      SHOP_URL: shopUrl,
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

const port = ingestPort;
console.log(
  `\nfanfare-relay is starting (config: ${env.FANFARE_WEBHOOK_SECRETS === values.FANFARE_WEBHOOK_SECRETS ? file : "environment"})\n` +
    `  webhooks  POST http://localhost:${port}/webhooks/fanfare\n` +
    `  health    http://localhost:${port}/healthz  http://localhost:${port}/readyz\n` +
    `  metrics   http://localhost:${port}/metrics\n` +
    `  dashboard ${dashboardUrl(dashboardPort, env.DASHBOARD_BASE_PATH)}  ${demoDashboard ? "(demo logins: admin / admin, read-only viewer / viewer)" : ""}\n` +
    `  workers   ${apps
      .filter((app) => app.name.startsWith("worker-"))
      .map((app) => `${app.name} http://localhost:${app.env.PORT}/healthz`)
      .join("\n            ")}\n` +
    `  mail      ${localMail ? `local catcher at ${smtpUrl}, saved as .eml under .data/mail` : smtpUrl}\n` +
    `  shop      ${demoShop ? `${shopUrl} (demo pages the mails link to; SHOP_URL unset)` : `${shopUrl} (SHOP_URL)`}\n` +
    `  logs      ${logFormat === "json" ? "JSON as the apps write it (LOG_FORMAT=json)" : "pretty-printed (LOG_FORMAT=json for the raw JSON)"}\n` +
    `  redis     keys under "${env.REDIS_PREFIX}:" (clear: redis-cli --scan --pattern '${env.REDIS_PREFIX}:*' | xargs -r redis-cli del)\n` +
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
  demoShop?.close();
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
