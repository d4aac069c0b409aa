// Throughput and latency of the ingest against a minimal handler (HMAC check + queue.add) on the
// same machine and Redis. Every request carries a fresh event id and a fresh signature.
// Usage: pnpm bench:ingest [-- --duration 10 --connections 50]
import { sign } from "@fanfare-relay/signature/sign";
import { deleteKeys } from "@fanfare-relay/testing/redis";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { fork } from "node:child_process";
import { once } from "node:events";
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
  },
});
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

async function measure(mode: "ingest" | "minimal", port: number) {
  const prefix = `bench-${mode}-${Date.now()}`;
  const server = fork(
    fileURLToPath(new URL("./server.ts", import.meta.url)),
    [mode, String(port), prefix],
    {
      execArgv: [
        "--import",
        "tsx",
        ...(process.env.BENCH_CPU_PROF
          ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
          : []),
      ],
      stdio: "inherit",
    },
  );
  await once(server, "message");
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
  server.kill("SIGTERM");
  await once(server, "exit");

  const redis = new Redis(redisUrl);
  const waiting = await redis.llen(`${prefix}:fanfare-queue:wait`);
  await deleteKeys(redis, prefix);
  redis.disconnect();

  return {
    mode,
    "req/s (mean)": Math.round(result.requests.average),
    "latency p50 ms": result.latency.p50,
    "latency p99 ms": result.latency.p99,
    "2xx": result["2xx"],
    "non-2xx": result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    "jobs stored": waiting,
  };
}

// Alternating runs (minimal, ingest, ingest, minimal, ...) so neither side always runs first.
const rounds = Number(values.rounds);
const rows: Awaited<ReturnType<typeof measure>>[] = [];
for (let round = 0; round < rounds; round += 1) {
  const order =
    round % 2 === 0 ? (["minimal", "ingest"] as const) : (["ingest", "minimal"] as const);
  for (const mode of order) rows.push(await measure(mode, mode === "minimal" ? 3998 : 3999));
}
console.log(
  `\n${values.duration}s per run, ${values.connections} connections, pipelining ${values.pipelining}, Redis ${redisUrl}`,
);
console.table(rows);
const mean = (mode: string) => {
  const runs = rows.filter((row) => row.mode === mode);
  return runs.reduce((sum, row) => sum + row["req/s (mean)"], 0) / runs.length;
};
console.log(
  `ingest / minimal throughput: ${((mean("ingest") / mean("minimal")) * 100).toFixed(1)} %`,
);
