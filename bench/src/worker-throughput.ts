// How many events per second the worker-queue pipeline applies end to end on this machine: jobs
// pre-filled through the EventProducer, then drained by worker-queue replicas (BullMQ → claim and
// handlers in one PostgreSQL transaction → outbox mail over SMTP), against real PostgreSQL, Redis
// and SMTP. Each configuration also runs with no-op handlers, which leaves only the claim and the
// queue's own cost. `--family consumer` drains worker-consumer instead, with the consumer events
// of the drop mix (sign-ins and account links; every tenth consumer owed a "You're in!" mail);
// `--family draw` drains worker-draw with the drop's draw events (entries, selections, claims,
// expiries; every winner's email known).
// Usage: pnpm --filter @fanfare-relay/bench workers
//          [-- --events 20000 --workers 1 --concurrency 100 --batch-size 50 --fork
//              --handlers domain|noop|both --family queue|consumer|draw]
// Workers run in this process; --fork gives each one a process of its own, as replicas are
// deployed. Without --workers or --concurrency it runs 1 × 100 (workers × concurrency) in this
// process and 2 × 100 in two processes; --batch-size overrides the worker's default (50).
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { CpuShares } from "./cpu-sampler.ts";
import type { BenchFamily, HandlerSet } from "./bench-worker.ts";
import {
  runWorkerBench,
  type WorkerBenchOptions,
  type WorkerBenchResult,
} from "./run-worker-bench.ts";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    events: { type: "string", default: "20000" },
    workers: { type: "string" },
    concurrency: { type: "string" },
    "batch-size": { type: "string" },
    fork: { type: "boolean", default: false },
    handlers: { type: "string", default: "both" },
    family: { type: "string", default: "queue" },
  },
});
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const events = Number(values.events);
const configurations =
  values.workers === undefined && values.concurrency === undefined
    ? [
        { workers: 1, concurrency: 100, fork: false },
        { workers: 2, concurrency: 100, fork: true },
      ]
    : [
        {
          workers: Number(values.workers ?? 1),
          concurrency: Number(values.concurrency ?? 100),
          fork: values.fork,
        },
      ];
const handlerChoices: Record<string, HandlerSet[]> = {
  both: ["noop", "domain"],
  domain: ["domain"],
  noop: ["noop"],
};
const handlerSets = handlerChoices[values.handlers];
const benchFamilies: readonly BenchFamily[] = ["queue", "consumer", "draw"];
const family = benchFamilies.find((name) => name === values.family);
if (
  handlerSets === undefined ||
  family === undefined ||
  !Number.isInteger(events) ||
  events < 10 ||
  configurations.some((c) => !(c.workers >= 1 && c.concurrency >= 1))
) {
  console.error(
    "usage: --events <n ≥ 10> --workers <n> --concurrency <n> [--fork] --handlers both|domain|noop --family queue|consumer|draw",
  );
  process.exit(2);
}

/** What kept the run from going faster, from where the CPU went. */
function bottleneck(cpu: CpuShares, cores: number, processes: number): string {
  const { bench, postgres = 0, machineBusy, iowait = 0 } = cpu;
  // In-process workers share one event loop: together they cannot use more than one core.
  if (processes === 1 && bench >= 0.9) return "the node event loop (1 core)";
  if (iowait >= 0.25) return "disk (WAL fsync)";
  if (machineBusy !== undefined && machineBusy >= 0.8 * cores) {
    return `machine CPU (node ${bench.toFixed(2)} + postgres ${postgres.toFixed(2)} + …)`;
  }
  return "round-trip latency (CPU to spare)";
}

const cores = cpus().length;
const shape = ({ workers, concurrency, fork }: WorkerBenchOptions) =>
  `${String(workers)}×${String(concurrency)}${fork ? ` in ${String(workers)} processes` : ""}`;
const rows: WorkerBenchResult[] = [];
console.log(
  `${String(events)} ${family}-family events per run, ${String(cores)} cores, load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(" ")}, Redis ${redisUrl}`,
);
for (const configuration of configurations) {
  for (const handlers of handlerSets) {
    const result = await runWorkerBench({
      events,
      handlers,
      family,
      redisUrl,
      ...configuration,
      ...(values["batch-size"] === undefined ? {} : { batchSize: Number(values["batch-size"]) }),
    });
    console.log(
      `${handlers} ${shape(result.options)}: ${result.eventsPerSecond.toFixed(0)} events/s`,
    );
    rows.push(result);
  }
}

const fixed = (value: number | undefined, digits = 2) =>
  value === undefined ? "n/a" : Number(value.toFixed(digits));
console.table(
  rows.map(({ options, problems, ...result }) => ({
    handlers: options.handlers,
    "workers×conc": shape(options),
    "events/s": Math.round(result.eventsPerSecond),
    "drain s": fixed(result.drainSeconds, 1),
    "job p50 ms": result.jobMsP50,
    "job p99 ms": result.jobMsP99,
    mails: result.mailsSent,
    check: problems.length === 0 ? "ok" : problems.join("; "),
  })),
);
console.log(
  "CPU over the drain, in cores (1 = one core busy throughout) and in ms per event. node: this" +
    " process and any forked workers, (sys) the kernel's part, mostly socket I/O; postgres: the" +
    " test database's backends and the server's background processes; other: the rest of the" +
    " machine.",
);
console.table(
  rows.map(({ options, cpu, eventsPerSecond }) => {
    const perEvent = (cores: number | undefined) =>
      fixed(cores === undefined ? undefined : (cores / eventsPerSecond) * 1000);
    return {
      handlers: options.handlers,
      "workers×conc": shape(options),
      [`busy of ${String(cores)}`]: fixed(cpu.machineBusy),
      "node (sys)": `${cpu.bench.toFixed(2)} (${cpu.benchSystem.toFixed(2)})`,
      postgres: fixed(cpu.postgres),
      redis: fixed(cpu.redis),
      other: fixed(
        cpu.machineBusy === undefined
          ? undefined
          : cpu.machineBusy - cpu.bench - (cpu.postgres ?? 0) - (cpu.redis ?? 0),
      ),
      iowait: fixed(cpu.iowait),
      "node ms/ev": perEvent(cpu.bench),
      "pg ms/ev": perEvent(cpu.postgres),
      "redis ms/ev": perEvent(cpu.redis),
      "limited by": bottleneck(cpu, cores, options.fork ? options.workers : 1),
    };
  }),
);
for (const configuration of configurations) {
  const find = (handlers: HandlerSet) =>
    rows.find(
      (row) =>
        row.options.handlers === handlers &&
        row.options.workers === configuration.workers &&
        row.options.concurrency === configuration.concurrency &&
        row.options.fork === configuration.fork,
    );
  const noop = find("noop");
  const domain = find("domain");
  if (noop !== undefined && domain !== undefined) {
    console.log(
      `${shape(noop.options)}: the ${family} family's handlers` +
        ` run at ${((domain.eventsPerSecond / noop.eventsPerSecond) * 100).toFixed(0)} % of the` +
        ` no-op baseline (claim + BullMQ only)`,
    );
  }
}
const enqueueRates = rows.map((row) => row.enqueuePerSecond.toFixed(0));
console.log(`pre-filling enqueued ${enqueueRates.join(", ")} events/s (EventProducer)`);
if (rows.some((row) => row.problems.length > 0)) process.exitCode = 1;
