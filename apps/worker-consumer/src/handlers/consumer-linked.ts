import type { EventHandler } from "@fanfare-relay/worker/handler";
import { applyConsumerFacts } from "../apply-consumer-facts.ts";

export const consumerLinked: EventHandler<"consumer.linked"> = async (context) => {
  const { event, recordAnalytics } = context;
  const { consumerId, externalCustomerId, linkedAt } = event.data;
  const email = event.data.email ?? null;
  await applyConsumerFacts(context, consumerId, {
    email,
    observedAt: linkedAt,
    link: { externalCustomerId, at: linkedAt },
  });
  await recordAnalytics("consumer_linked", {
    consumerId,
    externalCustomerId,
    emailProvided: email !== null,
  });
};
