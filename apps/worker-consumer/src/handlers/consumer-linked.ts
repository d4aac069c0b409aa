import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { applyConsumerFacts } from "../apply-consumer-facts.ts";

export const consumerLinked: BatchHandler<"consumer.linked"> = {
  async applyBatch(context) {
    const { events, recordAnalytics } = context;
    await applyConsumerFacts(
      context,
      events.map((event) => {
        const { consumerId, externalCustomerId, linkedAt } = event.data;
        return {
          event,
          consumerId,
          facts: {
            email: event.data.email ?? null,
            observedAt: linkedAt,
            link: { externalCustomerId, at: linkedAt },
          },
        };
      }),
    );
    for (const event of events) {
      const { consumerId, externalCustomerId } = event.data;
      recordAnalytics(event, "consumer_linked", {
        consumerId,
        externalCustomerId,
        emailProvided: (event.data.email ?? null) !== null,
      });
    }
  },
};
