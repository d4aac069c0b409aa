// Throughput and latency of the ingest against a minimal handler (HMAC check + queue.add) and a
// bare Fastify route (answers 200, does nothing) on the same machine and Redis, in alternating
// rounds (A B C A B C …), each server in a process of its own. Every request carries a fresh event
// id and a fresh signature.
// Each server's own CPU time per request (user + system, from /proc/<pid>/stat) is printed next
// to its throughput, with the load generator's CPU share and the machine's idle share: on two
// shared cores a saturated generator flattens the difference between servers. Afterwards every
// event a queueing server acknowledged (2xx) is looked up in Redis: the count of missing jobs
// must be 0. `--baseline <checkout>` adds the ingest of another checkout of this repository (e.g.
// a `git worktree` of the previous release, dependencies installed) to the same rounds, for
// before/after figures from one run.
// Usage: pnpm bench:ingest [-- --duration 10 --connections 50 --rounds 2 --baseline ../before]
import { sign } from "@fanfare-relay/signature/sign";
import { deleteKeys } from "@fanfare-relay/testing/redis";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { fork } from "node:child_process";
import { once } from "node:events";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { countMissingJobs } from "./acknowledged-jobs.ts";
import { BENCH_SECRET } from "./bench-secret.ts";
import { cpuShares, cpuSnapshot } from "./cpu-sampler.ts";
import { processCpuMs } from "./proc-stats.ts";
import { queueKeyBase } from "@fanfare-relay/queues/queue-keys";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    pipelining: { type: "string", default: "1" },
    rounds: { type: "string", default: "2" },
    baseline: { type: "string" },
  },
});
type Mode = "ingest" | "minimal" | "bare" | "ingest-baseline";
const baselineDir = values.baseline === undefined ? undefined : resolve(values.baseline);
const pipelining = Number(values.pipelining);
// With one request in flight per connection, a response belongs to the request just set up on
// that connection, so each 2xx can be tied to its event id; with pipelining only counts compare.
const tracksIds = pipelining === 1;
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const cores = cpus().length;

/** The generator counts as the bottleneck at this share of one core… */
const GENERATOR_BUSY_SHARE = 0.9;
/** …or when the whole machine had less than this share of its capacity idle. */
const MACHINE_IDLE_SHARE = 0.05;

let sequence = 0;
function delivery(): { id: string; body: string; headers: Record<string, string> } {
  sequence += 1;
  const id = `evt_bench_${String(process.pid)}_${String(sequence)}`;
  const body = JSON.stringify({
    id,
    type: "queue.consumer_entered",
    created: Math.floor(Date.now() / 1000),
    organizationId: "org_bench",
    experienceId: "exp_bench",
    data: {
      consumerId: `con_${String(sequence)}`,
      experienceId: "exp_bench",
      distributionId: "dist_bench",
      position: sequence,
      enteredAt: new Date().toISOString(),
    },
  });
  return {
    id,
    body,
    headers: {
      "content-type": "application/json",
      "x-fanfare-signature": sign({ payload: body, secrets: BENCH_SECRET }),
    },
  };
}

interface Row {
  round: number;
  mode: Mode;
  "req/s": number;
  "p50 ms": number;
  "p99 ms": number;
  "server CPU µs/req": number | undefined;
  "server CPU %": number | undefined;
  "redis CPU µs/req": number | undefined;
  "generator CPU %": number;
  "machine idle %": number | undefined;
  "2xx": number;
  "non-2xx": number;
  errors: number;
  "acked, not in Redis": number | undefined;
  "generator bound": boolean;
}

async function measure(mode: Mode, port: number, round: number): Promise<Row> {
  const prefix = `bench-${mode}-${String(Date.now())}`;
  const script =
    mode === "ingest-baseline" && baselineDir !== undefined
      ? join(baselineDir, "bench/src/server.ts")
      : fileURLToPath(new URL("./server.ts", import.meta.url));
  const serverMode = mode === "ingest-baseline" ? "ingest" : mode;
  const server = fork(script, [serverMode, String(port), prefix], {
    // tsx and the workspace packages resolve from the server's own checkout.
    cwd: dirname(dirname(script)),
    execArgv: [
      "--conditions=development",
      "--import",
      "tsx",
      ...(process.env.BENCH_CPU_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
    stdio: "inherit",
  });
  await once(server, "message");
  const acknowledged: string[] = [];
  const machineBefore = await cpuSnapshot();
  const serverCpuBefore = processCpuMs(server.pid);
  const generatorCpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${String(port)}`,
    connections: Number(values.connections),
    pipelining,
    duration: Number(values.duration),
    requests: [
      {
        method: "POST",
        path: "/webhooks/fanfare",
        setupRequest: (request, context: { eventId?: string }) => {
          const { id, ...rest } = delivery();
          context.eventId = id;
          return { ...request, ...rest };
        },
        onResponse: (status, _body, context: { eventId?: string }) => {
          if (tracksIds && status >= 200 && status < 300 && context.eventId !== undefined) {
            acknowledged.push(context.eventId);
          }
        },
      },
    ],
  });
  const wallMs = performance.now() - startedAt;
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  const serverCpuAfter = processCpuMs(server.pid);
  const machine = cpuShares(machineBefore, await cpuSnapshot(), new Set());
  server.kill("SIGTERM");
  await once(server, "exit");
  const requests = result.requests.total;
  const serverCpuMs =
    serverCpuBefore === undefined || serverCpuAfter === undefined
      ? undefined
      : serverCpuAfter - serverCpuBefore;
  const generatorShare = (generatorCpu.user + generatorCpu.system) / 1000 / wallMs;
  const machineIdle =
    // Clamped: tick rounding can make a saturated machine look a hair over 100 % busy.
    machine.machineBusy === undefined ? undefined : Math.max(0, 1 - machine.machineBusy / cores);

  let missing: number | undefined;
  const redis = new Redis(redisUrl);
  try {
    if (mode !== "bare") {
      missing = tracksIds
        ? await countMissingJobs(redis, prefix, acknowledged)
        : Math.max(
            0,
            result["2xx"] - (await redis.llen(`${queueKeyBase(prefix, "fanfare-queue")}:wait`)),
          );
    }
    await deleteKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }

  const perRequestUs = (ms: number | undefined) =>
    ms === undefined || requests === 0 ? undefined : Math.round((ms * 1000) / requests);
  const wallSeconds = wallMs / 1000;
  return {
    round,
    mode,
    "req/s": Math.round(result.requests.average),
    "p50 ms": result.latency.p50,
    "p99 ms": result.latency.p99,
    "server CPU µs/req": perRequestUs(serverCpuMs),
    "server CPU %":
      serverCpuMs === undefined ? undefined : Math.round((serverCpuMs / wallMs) * 100),
    "redis CPU µs/req": perRequestUs(
      machine.redis === undefined ? undefined : machine.redis * wallSeconds * 1000,
    ),
    "generator CPU %": Math.round(generatorShare * 100),
    "machine idle %": machineIdle === undefined ? undefined : Math.round(machineIdle * 100) + 0,
    "2xx": result["2xx"],
    "non-2xx": result.non2xx,
    errors: result.errors + result.timeouts,
    "acked, not in Redis": missing,
    "generator bound":
      generatorShare >= GENERATOR_BUSY_SHARE ||
      (machineIdle !== undefined && machineIdle < MACHINE_IDLE_SHARE),
  };
}

/** Why the generator may have held this run back (for rows marked "generator bound"). */
function boundReason(row: Row): string {
  const generator = `the load generator used ${String(row["generator CPU %"])} % of a core`;
  return row["generator CPU %"] >= GENERATOR_BUSY_SHARE * 100
    ? `${generator}: it was the bottleneck, so req/s understates the server; compare CPU per request`
    : `the machine was saturated (${show(row["machine idle %"])} % idle; ${generator}): generator, server and Redis competed for the cores, so req/s may be the generator's limit; compare CPU per request`;
}

const rounds = Number(values.rounds);
const modes: Mode[] = [
  "ingest",
  "minimal",
  "bare",
  ...(baselineDir ? (["ingest-baseline"] as const) : []),
];
const ports: Record<Mode, number> = {
  minimal: 3998,
  ingest: 3999,
  "ingest-baseline": 3997,
  bare: 3996,
};
const show = (value: number | undefined) => (value === undefined ? "n/a" : String(value));
console.log(
  `${values.duration}s per run, ${values.connections} connections, pipelining ${String(pipelining)}, ${String(cores)} cores, Redis ${redisUrl}; order ${modes.join(" → ")} every round`,
);
const rows: Row[] = [];
for (let round = 1; round <= rounds; round += 1) {
  for (const mode of modes) {
    const row = await measure(mode, ports[mode], round);
    rows.push(row);
    console.log(
      `round ${String(round)} ${mode}: ${String(row["req/s"])} req/s, p50/p99 ${String(row["p50 ms"])}/${String(row["p99 ms"])} ms, non-2xx ${String(row["non-2xx"])}, server ${show(row["server CPU µs/req"])} µs/req, generator ${String(row["generator CPU %"])} % of a core, machine idle ${show(row["machine idle %"])} %` +
        (row["acked, not in Redis"] === undefined
          ? ""
          : `, acknowledged but not in Redis ${String(row["acked, not in Redis"])}`),
    );
    if (row["generator bound"]) console.log(`  warning: ${boundReason(row)}`);
  }
}
console.table(
  rows.map(({ "generator bound": bound, ...row }) => ({
    ...Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value ?? "n/a"])),
    "gen. bound": bound,
  })),
);

const mean = (mode: Mode, column: "req/s" | "server CPU µs/req") => {
  const runs = rows.filter((row) => row.mode === mode).map((row) => Number(row[column]));
  return runs.reduce((sum, value) => sum + value, 0) / runs.length;
};
console.log(`means over ${String(rounds)} rounds:`);
for (const mode of modes.filter((m) => m !== "minimal")) {
  console.log(
    `  ${mode} / minimal: req/s ${(mean(mode, "req/s") / mean("minimal", "req/s")).toFixed(2)}× (${((mean(mode, "req/s") / mean("minimal", "req/s")) * 100).toFixed(1)} %), server CPU per request ${(mean(mode, "server CPU µs/req") / mean("minimal", "server CPU µs/req")).toFixed(2)}× (${mean(mode, "server CPU µs/req").toFixed(0)} vs ${mean("minimal", "server CPU µs/req").toFixed(0)} µs)`,
  );
}
const missingTotal = rows.reduce((sum, row) => sum + (row["acked, not in Redis"] ?? 0), 0);
const acknowledgedTotal = rows
  .filter((row) => row.mode !== "bare")
  .reduce((sum, row) => sum + row["2xx"], 0);
console.log(
  `acknowledged (2xx) deliveries of the queueing servers: ${String(acknowledgedTotal)}; missing from Redis: ${String(missingTotal)}` +
    (tracksIds ? " (each event id looked up)" : " (pipelining: stored jobs counted, not ids)"),
);
const bound = rows.filter((row) => row["generator bound"]).length;
if (bound > 0) {
  console.log(
    `warning: the load generator may have been the bottleneck in ${String(bound)} of ${String(rows.length)} runs (it used ≥ ${String(GENERATOR_BUSY_SHARE * 100)} % of a core, or the machine was < ${String(MACHINE_IDLE_SHARE * 100)} % idle): their req/s may understate the server; CPU per request still compares`,
  );
}
if (missingTotal > 0) process.exitCode = 1;
