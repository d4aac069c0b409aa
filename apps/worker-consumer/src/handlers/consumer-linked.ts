import type { EventHandler } from "@fanfare-relay/worker/handler";
import { mergeConsumer } from "../consumers.ts";

export const consumerLinked: EventHandler<"consumer.linked"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { consumerId, externalCustomerId, linkedAt } = event.data;
  const email = event.data.email ?? null;
  await mergeConsumer(tx, consumerId, {
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
