import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type JobOutcome = "applied" | "duplicate" | "failed" | "dead";

export interface WorkerMetrics {
  registry: Registry;
  jobs: Counter<"queue" | "type" | "outcome">;
  processingSeconds: Histogram<"queue" | "type">;
  attempts: Histogram<"queue" | "type">;
  emails: Counter<"queue" | "template" | "outcome">;
  redriven: Counter<"queue">;
  reconciled: Counter<"queue">;
  batchSize: Histogram<"queue">;
  batchesSplit: Counter<"queue">;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fanfare_worker_" });
  return {
    registry,
    jobs: new Counter({
      name: "fanfare_worker_jobs_total",
      help: "Job attempts by outcome: applied, duplicate (already applied), failed (will retry), dead",
      labelNames: ["queue", "type", "outcome"],
      registers: [registry],
    }),
    processingSeconds: new Histogram({
      name: "fanfare_worker_job_duration_seconds",
      help: "Time spent on one job attempt, emails included",
      labelNames: ["queue", "type"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    attempts: new Histogram({
      name: "fanfare_worker_job_attempts",
      help: "The attempt on which a job finished (succeeded or died)",
      labelNames: ["queue", "type"],
      buckets: [1, 2, 3, 4, 5, 6, 7],
      registers: [registry],
    }),
    emails: new Counter({
      name: "fanfare_worker_emails_total",
      help: "Outbox emails by outcome: sent or failed (will be retried)",
      labelNames: ["queue", "template", "outcome"],
      registers: [registry],
    }),
    redriven: new Counter({
      name: "fanfare_worker_dead_letters_redriven_total",
      help: "Dead letters put back on their queue by the scheduled re-drive",
      labelNames: ["queue"],
      registers: [registry],
    }),
    reconciled: new Counter({
      name: "fanfare_worker_dead_letters_reconciled_total",
      help: "Dead letters written late by the reconciliation (the database was down when the job failed for good, or its worker died)",
      labelNames: ["queue"],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "fanfare_worker_batch_size",
      help: "Events applied together in one transaction",
      labelNames: ["queue"],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200],
      registers: [registry],
    }),
    batchesSplit: new Counter({
      name: "fanfare_worker_batches_split_total",
      help: "Batches that failed as a whole and were applied again one event at a time (a poison event, a deadlock, an outage)",
      labelNames: ["queue"],
      registers: [registry],
    }),
  };
}
