import type { Envelope } from "@fanfare-relay/events/envelope";
import type { WorkerHarness } from "./harness.ts";

/** A job as the harness delivered it. */
export type DeliveredJob = Awaited<ReturnType<WorkerHarness["deliver"]>>;

/** Enqueues every event at once and resolves with their jobs once all are settled. */
export async function deliverTogether(
  harness: WorkerHarness,
  events: Envelope[],
): Promise<DeliveredJob[]> {
  return Promise.all(events.map((event) => harness.deliver(event)));
}

/**
 * How many batches the harness's worker applied, how many events they held in all, and how many
 * batches were split (applied again one event at a time), read from its metrics.
 */
export async function batchesSeen(harness: WorkerHarness) {
  const metric = await harness.worker.metrics.batchSize.get();
  const value = (name: string) =>
    metric.values.find((sample) => sample.metricName === name)?.value ?? 0;
  const split = await harness.worker.metrics.batchesSplit.get();
  return {
    batches: value("fanfare_worker_batch_size_count"),
    events: value("fanfare_worker_batch_size_sum"),
    split: split.values[0]?.value ?? 0,
  };
}
