import type { EventHandler } from "@fanfare-relay/worker/handler";
import { applyConsumerFacts } from "../apply-consumer-facts.ts";

export const consumerAuthenticated: EventHandler<"consumer.authenticated"> = async (context) => {
  const { event, recordAnalytics } = context;
  const { consumerId, authenticatedAt } = event.data;
  const email = event.data.email ?? null;
  const method = event.data.method ?? null;
  await applyConsumerFacts(context, consumerId, {
    email,
    observedAt: authenticatedAt,
    authentication: { method, at: authenticatedAt },
  });
  // Whether an address came, never the address itself: analytics must hold no PII.
  await recordAnalytics("consumer_authenticated", {
    consumerId,
    method,
    emailProvided: email !== null,
  });
};
