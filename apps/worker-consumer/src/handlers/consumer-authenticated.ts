import type { EventHandler } from "@fanfare-relay/worker/handler";
import { mergeConsumer } from "../consumers.ts";

export const consumerAuthenticated: EventHandler<"consumer.authenticated"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { consumerId, authenticatedAt } = event.data;
  const email = event.data.email ?? null;
  const method = event.data.method ?? null;
  await mergeConsumer(tx, consumerId, {
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
