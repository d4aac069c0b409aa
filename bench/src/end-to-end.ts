// End to end on this machine: a drop's events (all five families, valid lifecycles, unique ids)
// sent as signed HTTP deliveries to the real ingest process, applied by the five real worker app
// processes (each started as its package.json start script does) into a fresh PostgreSQL
// database (migrated as `pnpm db:migrate` does, synchronous_commit on), mail going to an SMTP
// server in this process that counts it. Runs until every acknowledged event is a `completed`
// row of webhook_events, sampling the queues every second, then prints throughput, queue lag,
// mails, each process's peak memory and CPU per event, and removes the database and Redis keys.
// Usage: pnpm bench:e2e [-- --events 100000 --connections 32 --concurrency 10]
import { connect } from "@fanfare-relay/db/connect";
import { families, type Family } from "@fanfare-relay/events/families";
import { createTestDatabase, runAsAdmin } from "@fanfare-relay/testing/postgres";
import { freePort } from "@fanfare-relay/testing/free-port";
import { deleteKeys, uniquePrefix } from "@fanfare-relay/testing/redis";
import { Redis } from "ioredis";
import { sql } from "kysely";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { buildApps, startApp, type AppProcess } from "./app-process.ts";
import { BENCH_SECRET } from "./bench-secret.ts";
import { startCountingSmtp } from "./counting-smtp.ts";
import { cpuShares, cpuSnapshot } from "./cpu-sampler.ts";
import { dropEventMix } from "./drop-event-mix.ts";
import { LagSampler, sampleQueues } from "./queue-lag-sampler.ts";
import { sendSigned } from "./signed-sender.ts";
import { watchFailures, type FailureWatch } from "./watch-failures.ts";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    events: { type: "string", default: "100000" },
    connections: { type: "string", default: "32" },
    concurrency: { type: "string" },
    seed: { type: "string", default: "1" },
    "stall-seconds": { type: "string", default: "120" },
    // The apps' TypeScript sources under tsx (how `pnpm start` runs them) instead of their
    // compiled production build: the before/after of compiling.
    "from-source": { type: "boolean", default: false },
  },
});
const total = Number(values.events);
const connections = Number(values.connections);
const stallMs = Number(values["stall-seconds"]) * 1000;
if (!Number.isInteger(total) || total < 10 || !(connections >= 1)) {
  console.error(
    "usage: --events <n ≥ 10> --connections <n> [--concurrency <n>] [--seed <n>] [--from-source]",
  );
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Peak resident memory each kind of process should stay under, MB. */
const RSS_TARGET_MB = { ingest: 150, worker: 200 };
const POLL_MS = 250;

const percentile = (values: ArrayLike<number>, fraction: number) => {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
};

const generatedAt = performance.now();
const mix = dropEventMix(total, Number(values.seed));
console.log(
  `${String(total)} events (${families.map((family) => `${family} ${String(mix.perFamily[family])}`).join(", ")}; ${String(mix.shoppers)} shoppers), generated in ${((performance.now() - generatedAt) / 1000).toFixed(1)} s; ${String(cpus().length)} cores, load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(" ")}`,
);

const database = await createTestDatabase("bench_e2e");
const databaseName = new URL(database.url).pathname.slice(1);
const smtp = await startCountingSmtp();
const prefix = uniquePrefix("bench-e2e");
const redis = new Redis(redisUrl);
const apps: AppProcess[] = [];
let failures: FailureWatch | undefined;
let failed = false;
try {
  // The server's default, stated rather than inherited: every commit waits for its WAL flush.
  await runAsAdmin(`ALTER DATABASE ${databaseName} SET synchronous_commit = on`);
  const probe = connect({ connectionString: database.url, max: 1 });
  const setting = await sql<{
    synchronous_commit: string;
  }>`SELECT current_setting('synchronous_commit') AS synchronous_commit`.execute(probe);
  await probe.destroy();
  console.log(
    `database ${databaseName} (synchronous_commit ${setting.rows[0]?.synchronous_commit ?? "?"}), Redis prefix ${prefix}, SMTP ${smtp.url}`,
  );

  const workerEnv = async (): Promise<Record<string, string>> => ({
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    MAIL_FROM: "Shop <no-reply@shop.test>",
    SHOP_URL: "https://shop.test",
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    ...(values.concurrency === undefined ? {} : { WORKER_CONCURRENCY: values.concurrency }),
  });
  const run = values["from-source"] ? "source" : "build";
  if (run === "build") buildApps(["ingest", ...families.map((family) => `worker-${family}`)]);
  const workerApps = await Promise.all(
    families.map(async (family) =>
      startApp(`worker-${family}`, await workerEnv(), `worker-${family} ready`, run),
    ),
  );
  apps.push(...workerApps);
  const ingestPort = await freePort();
  const ingest = await startApp(
    "ingest",
    {
      FANFARE_WEBHOOK_SECRETS: BENCH_SECRET,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      PORT: String(ingestPort),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    },
    "ingest ready",
    run,
  );
  apps.push(ingest);

  const cpuBefore = new Map(apps.map((app) => [app, app.cpuMs()]));
  const machineBefore = await cpuSnapshot();
  const benchCpuBefore = process.cpuUsage();
  failures = await watchFailures(redisUrl, prefix);
  const sampler = new LagSampler(redis, prefix);
  sampler.start();
  const sent = await sendSigned({
    url: `http://127.0.0.1:${String(ingestPort)}/webhooks/fanfare`,
    secret: BENCH_SECRET,
    events: mix.events,
    concurrency: connections,
  });
  console.log(
    `sent: ${String(sent.acknowledged)} acknowledged in ${((sent.finishedAtMs - sent.startedAtMs) / 1000).toFixed(1)} s, ${String(sent.non2xx)} non-2xx answers, ${String(sent.failedRequests)} failed requests, ${String(sent.abandoned)} abandoned; waiting for the workers`,
  );

  // Drained when every acknowledged event is a completed row: Redis's counts are polled first
  // (cheap), then PostgreSQL's, each giving up after `stall-seconds` without progress.
  const countCompletedRows = async () => {
    const result = await sql<{ count: number }>`
      SELECT count(*)::int AS count FROM webhook_events WHERE status = 'completed'`.execute(
      database.db,
    );
    return result.rows[0]?.count ?? 0;
  };
  const pollUntil = async (what: string, progress: () => Promise<number>) => {
    let done = 0;
    let lastProgress = performance.now();
    for (;;) {
      const now = await progress();
      if (now > done) lastProgress = performance.now();
      done = now;
      if (done >= sent.acknowledged) return;
      if (performance.now() - lastProgress > stallMs) {
        throw new Error(`stalled at ${String(done)}/${String(sent.acknowledged)} ${what}`);
      }
      await sleep(POLL_MS);
    }
  };
  await pollUntil("jobs finished", async () => {
    const sample = await sampleQueues(redis, prefix, 0);
    return sample.completed + sample.failed;
  });
  await pollUntil("webhook_events rows completed", countCompletedRows);
  const appliedAtMs = performance.now();
  const statuses = await sql<{ status: string; count: number }>`
    SELECT status, count(*)::int AS count FROM webhook_events GROUP BY status`.execute(database.db);
  const completedRows = statuses.rows.find((row) => row.status === "completed")?.count ?? 0;
  // Mails go out after their event's commit: wait (briefly) until the outbox has none pending.
  let outbox = { pending: 0, sent: 0 };
  for (let waited = 0; waited < 60_000; waited += POLL_MS) {
    const counts = await sql<{ pending: number; sent: number }>`
      SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
             count(*) FILTER (WHERE status = 'sent')::int AS sent
      FROM email_outbox`.execute(database.db);
    outbox = counts.rows[0] ?? outbox;
    if (outbox.pending === 0 && smtp.received >= outbox.sent) break;
    await sleep(POLL_MS);
  }
  await sampler.stop();
  const failureReport = await failures.close(redis);
  const backends = await sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() OR backend_type <> 'client backend'`.execute(database.db);
  const machineAfter = await cpuSnapshot();
  const machine = cpuShares(
    machineBefore,
    machineAfter,
    new Set(backends.rows.map((row) => row.pid)),
  );
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const processes = apps.map((app) => {
    const before = cpuBefore.get(app);
    const after = app.cpuMs();
    return {
      app,
      cpuMs: before === undefined || after === undefined ? undefined : after - before,
      peakRssMb: app.peakRssMb(),
    };
  });
  // Events that needed more than one attempt (their failed attempts' reasons came from BullMQ).
  const retried = await sql<{ count: number }>`
    SELECT count(*)::int AS count FROM webhook_events WHERE attempts > 1`.execute(database.db);
  const deadLetters = await sql<{ count: number }>`
    SELECT count(*)::int AS count FROM webhook_dead_letters`.execute(database.db);

  // Figures.
  const events = sent.acknowledged;
  const sendSeconds = (sent.finishedAtMs - sent.startedAtMs) / 1000;
  const appliedSeconds = (appliedAtMs - sent.startedAtMs) / 1000;
  console.log(
    `\nthroughput: ingest acknowledged ${(events / sendSeconds).toFixed(0)} events/s (${sendSeconds.toFixed(1)} s; delivery p50/p99 ${percentile(sent.latenciesMs, 0.5).toFixed(1)}/${percentile(sent.latenciesMs, 0.99).toFixed(1)} ms), applied ${(events / appliedSeconds).toFixed(0)} events/s (last applied ${appliedSeconds.toFixed(1)} s after the first delivery)`,
  );

  const samples = sampler.samples;
  const step = Math.max(1, Math.ceil(samples.length / 40));
  console.log(
    `\nqueue lag, sampled every second (every ${String(step)}. sample shown): waiting+active jobs per queue, delayed (retries), age of the oldest unapplied event`,
  );
  console.table(
    samples
      .filter((_, index) => index % step === 0 || index === samples.length - 1)
      .map((sample) => ({
        "t s": Math.round(sample.atSeconds),
        ...sample.backlog,
        delayed: sample.delayed,
        applied: sample.completed,
        "oldest unapplied s": Number((sample.oldestUnappliedMs / 1000).toFixed(1)),
        "… not retrying s": Number((sample.oldestQueuedMs / 1000).toFixed(1)),
      })),
  );
  const ages = samples.map((sample) => sample.oldestUnappliedMs / 1000);
  const queuedAges = samples.map((sample) => sample.oldestQueuedMs / 1000);
  const backlogs = samples.map((sample) =>
    families.reduce((sum, family) => sum + sample.backlog[family], 0),
  );
  const maxBacklog = (family: Family) =>
    Math.max(0, ...samples.map((sample) => sample.backlog[family]));
  console.log(
    `lag over ${String(samples.length)} samples: oldest unapplied event max ${Math.max(0, ...ages).toFixed(1)} s, p99 ${percentile(ages, 0.99).toFixed(1)} s (leaving out events waiting for a retry: max ${Math.max(0, ...queuedAges).toFixed(1)} s, p99 ${percentile(queuedAges, 0.99).toFixed(1)} s); backlog (all queues) max ${String(Math.max(0, ...backlogs))}, p99 ${String(percentile(backlogs, 0.99))}; per queue max ${families.map((family) => `${family} ${String(maxBacklog(family))}`).join(", ")}` +
      (sampler.errors > 0 ? `; ${String(sampler.errors)} samples failed` : ""),
  );

  console.log(
    `events applied on a later attempt: ${String(retried.rows[0]?.count ?? 0)}; attempts BullMQ retried: ${String(failureReport.retried)}, jobs failed for good: ${String(failureReport.failed)}` +
      [...failureReport.reasons]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([reason, count]) => `\n  ${String(count)} × ${reason.slice(0, 200)}`)
        .join(""),
  );
  console.log(
    `\nmails: ${String(smtp.received)} received by SMTP, ${String(outbox.sent)} marked sent, ${String(outbox.pending)} pending`,
  );
  const perEvent = (ms: number | undefined) =>
    ms === undefined ? "n/a" : Number((ms / events).toFixed(3));
  // The window every CPU figure covers: from before the first delivery to the last check.
  const wallSeconds = (machineAfter.atMs - machineBefore.atMs) / 1000;
  console.log(
    "\nper process: peak RSS (VmHWM) against its target, CPU from /proc/<pid>/stat over the run",
  );
  console.table([
    ...processes.map(({ app, cpuMs, peakRssMb }) => {
      const target = app.name === "ingest" ? RSS_TARGET_MB.ingest : RSS_TARGET_MB.worker;
      return {
        process: app.name,
        pid: app.pid,
        "peak RSS MB": peakRssMb === undefined ? "n/a" : Math.round(peakRssMb),
        "target MB": `≤ ${String(target)}`,
        within: peakRssMb === undefined ? "n/a" : peakRssMb <= target ? "yes" : "NO",
        "CPU s": cpuMs === undefined ? "n/a" : Number((cpuMs / 1000).toFixed(1)),
        "CPU ms/event": perEvent(cpuMs),
      };
    }),
    ...(
      [
        ["postgres (this db + background)", machine.postgres],
        ["redis-server", machine.redis],
      ] as const
    ).map(([name, cores]) => ({
      process: name,
      "CPU s": cores === undefined ? "n/a" : Number((cores * wallSeconds).toFixed(1)),
      "CPU ms/event": perEvent(cores === undefined ? undefined : cores * wallSeconds * 1000),
    })),
    {
      process: "bench (sender, SMTP, sampler)",
      "CPU s": Number(((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)),
      "CPU ms/event": perEvent((benchCpu.user + benchCpu.system) / 1000),
    },
    {
      process: `machine (${String(cpus().length)} cores)`,
      "CPU s":
        machine.machineBusy === undefined
          ? "n/a"
          : Number((machine.machineBusy * wallSeconds).toFixed(1)),
      "CPU ms/event": perEvent(
        machine.machineBusy === undefined ? undefined : machine.machineBusy * wallSeconds * 1000,
      ),
    },
  ]);

  const problems: string[] = [];
  if (sent.abandoned > 0) problems.push(`${String(sent.abandoned)} deliveries never acknowledged`);
  if (completedRows !== events) {
    problems.push(
      `webhook_events: ${statuses.rows.map((row) => `${String(row.count)} ${row.status}`).join(", ")}; expected ${String(events)} completed`,
    );
  }
  if ((deadLetters.rows[0]?.count ?? 0) > 0) {
    problems.push(`${String(deadLetters.rows[0]?.count)} dead letters`);
  }
  if (outbox.pending > 0 || smtp.received !== outbox.sent) {
    problems.push(
      `${String(outbox.sent)} mails marked sent, ${String(smtp.received)} received, ${String(outbox.pending)} pending`,
    );
  }
  console.log(problems.length === 0 ? "\ncheck: ok" : `\ncheck FAILED: ${problems.join("; ")}`);
  failed = problems.length > 0;
} catch (error) {
  failed = true;
  console.error(error);
  for (const app of apps) console.error(`--- ${app.name}, last lines:\n${app.tail()}`);
} finally {
  await failures?.close(redis).catch(() => undefined);
  await Promise.all(apps.map((app) => app.stop()));
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await smtp.close();
  await database.drop();
}
if (failed) process.exitCode = 1;
