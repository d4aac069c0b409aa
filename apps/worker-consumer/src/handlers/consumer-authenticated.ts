import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { applyConsumerFacts } from "../apply-consumer-facts.ts";

export const consumerAuthenticated: BatchHandler<"consumer.authenticated"> = {
  async applyBatch(context) {
    const { events, recordAnalytics } = context;
    await applyConsumerFacts(
      context,
      events.map((event) => {
        const { consumerId, authenticatedAt } = event.data;
        return {
          event,
          consumerId,
          facts: {
            email: event.data.email ?? null,
            observedAt: authenticatedAt,
            authentication: { method: event.data.method ?? null, at: authenticatedAt },
          },
        };
      }),
    );
    for (const event of events) {
      // Whether an address came, never the address itself: analytics must hold no PII.
      recordAnalytics(event, "consumer_authenticated", {
        consumerId: event.data.consumerId,
        method: event.data.method ?? null,
        emailProvided: (event.data.email ?? null) !== null,
      });
    }
  },
};
