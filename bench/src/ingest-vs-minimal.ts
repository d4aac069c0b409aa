// Throughput and latency of the ingest against a minimal handler (HMAC check + queue.add) on the
// same machine and Redis. Every request carries a fresh event id and a fresh signature.
// Each server's own CPU time per request (user + system, from /proc/<pid>/stat) is printed next
// to its throughput, with the load generator's CPU share: on two shared cores a saturated
// generator flattens the difference between servers. `--baseline <checkout>` adds the ingest of
// another checkout of this repository (e.g. a `git worktree` of the previous release, dependencies
// installed) to the same alternating rounds, for before/after figures from one run.
// Usage: pnpm bench:ingest [-- --duration 10 --connections 50 --baseline ../before]
import { sign } from "@fanfare-relay/signature/sign";
import { deleteKeys } from "@fanfare-relay/testing/redis";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { fork } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BENCH_SECRET } from "./bench-secret.ts";

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
type Mode = "minimal" | "ingest" | "ingest-baseline";
const baselineDir = values.baseline === undefined ? undefined : resolve(values.baseline);

/** USER_HZ, the unit of /proc CPU times; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU of a process in ms, from /proc (Linux); undefined elsewhere. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

let sequence = 0;
function delivery(): { body: string; headers: Record<string, string> } {
  sequence += 1;
  const body = JSON.stringify({
    id: `evt_bench_${process.pid}_${sequence}`,
    type: "queue.consumer_entered",
    created: Math.floor(Date.now() / 1000),
    organizationId: "org_bench",
    experienceId: "exp_bench",
    data: {
      consumerId: `con_${sequence}`,
      experienceId: "exp_bench",
      distributionId: "dist_bench",
      position: sequence,
      enteredAt: new Date().toISOString(),
    },
  });
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-fanfare-signature": sign({ payload: body, secrets: BENCH_SECRET }),
    },
  };
}

async function measure(mode: Mode, port: number) {
  const prefix = `bench-${mode}-${Date.now()}`;
  const script =
    mode === "ingest-baseline" && baselineDir !== undefined
      ? join(baselineDir, "bench/src/server.ts")
      : fileURLToPath(new URL("./server.ts", import.meta.url));
  const server = fork(script, [mode === "minimal" ? "minimal" : "ingest", String(port), prefix], {
    // tsx and the workspace packages resolve from the server's own checkout.
    cwd: dirname(dirname(script)),
    execArgv: [
      "--import",
      "tsx",
      ...(process.env.BENCH_CPU_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
    stdio: "inherit",
  });
  await once(server, "message");
  const serverCpuBefore = processCpuMs(server.pid);
  const generatorCpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: Number(values.connections),
    pipelining: Number(values.pipelining),
    duration: Number(values.duration),
    requests: [
      {
        method: "POST",
        path: "/webhooks/fanfare",
        setupRequest: (request) => ({ ...request, ...delivery() }),
      },
    ],
  });
  const wallMs = performance.now() - startedAt;
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  const serverCpuAfter = processCpuMs(server.pid);
  server.kill("SIGTERM");
  await once(server, "exit");
  const requests = result.requests.total;
  const serverCpuMs =
    serverCpuBefore === undefined || serverCpuAfter === undefined
      ? undefined
      : serverCpuAfter - serverCpuBefore;
  const generatorShare = (generatorCpu.user + generatorCpu.system) / 1000 / wallMs;

  const redis = new Redis(redisUrl);
  const waiting = await redis.llen(`${prefix}:fanfare-queue:wait`);
  await deleteKeys(redis, prefix);
  redis.disconnect();

  return {
    mode,
    "req/s (mean)": Math.round(result.requests.average),
    "latency p50 ms": result.latency.p50,
    "latency p99 ms": result.latency.p99,
    "server CPU µs/req":
      serverCpuMs === undefined || requests === 0
        ? "n/a"
        : Math.round((serverCpuMs * 1000) / requests),
    "server CPU %": serverCpuMs === undefined ? "n/a" : Math.round((serverCpuMs / wallMs) * 100),
    "generator CPU %": Math.round(generatorShare * 100),
    "2xx": result["2xx"],
    "non-2xx": result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    "jobs stored": waiting,
  };
}

// Alternating rounds (each round reverses the last one's order) so no server always runs first.
const rounds = Number(values.rounds);
const modes: Mode[] = ["minimal", "ingest", ...(baselineDir ? (["ingest-baseline"] as const) : [])];
const ports: Record<Mode, number> = { minimal: 3998, ingest: 3999, "ingest-baseline": 3997 };
const rows: Awaited<ReturnType<typeof measure>>[] = [];
for (let round = 0; round < rounds; round += 1) {
  const order = round % 2 === 0 ? modes : [...modes].reverse();
  for (const mode of order) rows.push(await measure(mode, ports[mode]));
}
console.log(
  `\n${values.duration}s per run, ${values.connections} connections, pipelining ${values.pipelining}, Redis ${redisUrl}`,
);
console.table(rows);
const mean = (mode: Mode, column: "req/s (mean)" | "server CPU µs/req") => {
  const runs = rows.filter((row) => row.mode === mode).map((row) => Number(row[column]));
  return runs.reduce((sum, value) => sum + value, 0) / runs.length;
};
for (const mode of modes.filter((m) => m !== "minimal")) {
  console.log(
    `${mode} / minimal: throughput ${((mean(mode, "req/s (mean)") / mean("minimal", "req/s (mean)")) * 100).toFixed(1)} %, server CPU per request ${(mean(mode, "server CPU µs/req") / mean("minimal", "server CPU µs/req")).toFixed(2)}×`,
  );
}
if (rows.some((row) => row["generator CPU %"] >= 90)) {
  console.log(
    "warning: the load generator used ≥ 90 % of a core in some runs: it was the bottleneck there, so compare CPU per request rather than req/s",
  );
}
for (const row of rows) {
  if (row["jobs stored"] < row["2xx"]) {
    console.log(
      `warning: ${row.mode} answered ${String(row["2xx"])} × 2xx but Redis holds ${String(row["jobs stored"])} jobs`,
    );
  }
}
