import type { Envelope } from "@fanfare-relay/events/envelope";
import { inMinutes, sampleEvent } from "@fanfare-relay/worker/testing/harness";

export interface BenchConsumer {
  id: string;
  email: string | null;
}

export interface QueueEventMix {
  /** In delivery order: every entry, then the admissions, then how each admission ended. */
  events: Envelope[];
  /** Every other consumer has an email, so about half the admissions send a "you're in" mail. */
  consumers: BenchConsumer[];
  admitted: number;
}

/**
 * A drop as the queue family sees it: every consumer enters, about 40 % are admitted, and each
 * admission then completes (3 in 5) or expires. `total` events in all, each with its own id.
 */
export function queueEventMix(total: number): QueueEventMix {
  // total = entered + admitted + ended, with admitted = ended ≈ 0.4 × entered.
  const entered = Math.ceil(total / 1.8);
  const admitted = Math.ceil((total - entered) / 2);
  const ended = total - entered - admitted;
  const consumers: BenchConsumer[] = Array.from({ length: entered }, (_, index) => ({
    id: `con_bench_${index}`,
    email: index % 2 === 0 ? `shopper${index}@example.test` : null,
  }));
  const now = new Date().toISOString();
  const events: Envelope[] = [];
  consumers.forEach((consumer, index) => {
    events.push(
      sampleEvent("queue.consumer_entered", {
        consumerId: consumer.id,
        position: index + 1,
        enteredAt: now,
      }),
    );
  });
  for (const [index, consumer] of consumers.slice(0, admitted).entries()) {
    events.push(
      sampleEvent("queue.consumer_admitted", {
        consumerId: consumer.id,
        admissionToken: `adm_tok_bench_${index}`,
        admittedAt: now,
        // In the future, or the handler would rightly send no mail for a window already closed.
        expiresAt: inMinutes(30),
        position: index + 1,
        waitTimeSeconds: 60,
      }),
    );
  }
  for (const [index, consumer] of consumers.slice(0, ended).entries()) {
    events.push(
      index % 5 < 3
        ? sampleEvent("queue.admission_completed", {
            consumerId: consumer.id,
            orderId: `ord_bench_${index}`,
            completedAt: now,
          })
        : sampleEvent("queue.admission_expired", { consumerId: consumer.id, expiredAt: now }),
    );
  }
  return { events, consumers, admitted };
}
