// The scaling curve of the queue family's workers: 1, 2 and 4 worker-queue replicas, each in a
// process of its own as deployed, draining the same pre-filled backlog (real handlers, real
// PostgreSQL, Redis and SMTP; every run checked: each event applied once, each mail sent once).
// Prints events/s and CPU per event for each replica count, and the speed-up over one replica.
// Usage: pnpm bench:scaling [-- --events 100000 --replicas 1,2,4 --concurrency 100 --rounds 1]
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { runWorkerBench, type WorkerBenchResult } from "./run-worker-bench.ts";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    events: { type: "string", default: "100000" },
    replicas: { type: "string", default: "1,2,4" },
    concurrency: { type: "string", default: "100" },
    rounds: { type: "string", default: "1" },
  },
});
const events = Number(values.events);
const replicaCounts = values.replicas.split(",").map(Number);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
if (
  !Number.isInteger(events) ||
  events < 10 ||
  replicaCounts.some((count) => !Number.isInteger(count) || count < 1) ||
  !(concurrency >= 1) ||
  !(rounds >= 1)
) {
  console.error("usage: --events <n ≥ 10> --replicas 1,2,4 --concurrency <n> --rounds <n>");
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const cores = cpus().length;

console.log(
  `${String(events)} queue-family events per run, replicas ${replicaCounts.join(", ")} × concurrency ${String(concurrency)}, each replica a process; ${String(cores)} cores, load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(" ")}`,
);
const results: { round: number; replicas: number; result: WorkerBenchResult }[] = [];
// Rounds alternate the order (1 2 4, 4 2 1, …) so no replica count always runs first.
for (let round = 1; round <= rounds; round += 1) {
  const order = round % 2 === 1 ? replicaCounts : [...replicaCounts].reverse();
  for (const replicas of order) {
    const result = await runWorkerBench({
      events,
      workers: replicas,
      concurrency,
      fork: true,
      handlers: "domain",
      redisUrl,
      stallTimeoutMs: 120_000,
    });
    console.log(
      `round ${String(round)}, ${String(replicas)} replica(s): ${result.eventsPerSecond.toFixed(0)} events/s, drained in ${result.drainSeconds.toFixed(1)} s, check ${result.problems.length === 0 ? "ok" : result.problems.join("; ")}`,
    );
    results.push({ round, replicas, result });
  }
}

const fixed = (value: number | undefined, digits = 2) =>
  value === undefined ? "n/a" : Number(value.toFixed(digits));
const perEvent = (coresUsed: number | undefined, eventsPerSecond: number) =>
  fixed(coresUsed === undefined ? undefined : (coresUsed / eventsPerSecond) * 1000);
const meanRate = (replicas: number) => {
  const rates = results
    .filter((row) => row.replicas === replicas)
    .map((row) => row.result.eventsPerSecond);
  return rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
};
const base = meanRate(replicaCounts[0] ?? 1);
console.log(
  "\nCPU over each drain in cores (1 = one core busy throughout) and per event; workers: all replica processes together",
);
console.table(
  results.map(({ round, replicas, result }) => ({
    round,
    replicas,
    "events/s": Math.round(result.eventsPerSecond),
    "× first": fixed(result.eventsPerSecond / base),
    "drain s": fixed(result.drainSeconds, 1),
    "job p50/p99 ms": `${String(result.jobMsP50)}/${String(result.jobMsP99)}`,
    mails: result.mailsSent,
    [`busy of ${String(cores)}`]: fixed(result.cpu.machineBusy),
    workers: fixed(result.cpu.bench),
    postgres: fixed(result.cpu.postgres),
    redis: fixed(result.cpu.redis),
    // Everything else on the machine: other tenants' load competes for the same cores.
    other: fixed(
      result.cpu.machineBusy === undefined
        ? undefined
        : result.cpu.machineBusy -
            result.cpu.bench -
            (result.cpu.postgres ?? 0) -
            (result.cpu.redis ?? 0),
    ),
    "workers ms/ev": perEvent(result.cpu.bench, result.eventsPerSecond),
    "pg ms/ev": perEvent(result.cpu.postgres, result.eventsPerSecond),
    "redis ms/ev": perEvent(result.cpu.redis, result.eventsPerSecond),
    check: result.problems.length === 0 ? "ok" : result.problems.join("; "),
  })),
);
console.log(
  `scaling curve (mean events/s over ${String(rounds)} round(s), speed-up over ${String(replicaCounts[0])} replica(s)): ` +
    replicaCounts
      .map(
        (replicas) =>
          `${String(replicas)} → ${meanRate(replicas).toFixed(0)} (${(meanRate(replicas) / base).toFixed(2)}×)`,
      )
      .join(", "),
);
if (results.some(({ result }) => (result.cpu.machineBusy ?? 0) >= 0.9 * cores)) {
  console.log(
    `note: the machine's ${String(cores)} cores were ≥ 90 % busy in some runs: more replicas there only share the same cores`,
  );
}
if (results.some(({ result }) => result.problems.length > 0)) process.exitCode = 1;
