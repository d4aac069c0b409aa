import type { HandlerMap } from "@fanfare-relay/worker/handler";

const nothing = () => Promise.resolve();

/**
 * The baseline: the worker still parses the job, claims the event in its transaction and looks for
 * outbox mails, but applies nothing. Against the real handlers it shows what the domain logic
 * costs on top of the claim and BullMQ.
 */
export const noopQueueHandlers: HandlerMap<"queue"> = {
  "queue.consumer_entered": nothing,
  "queue.consumer_admitted": nothing,
  "queue.consumer_left": nothing,
  "queue.admission_completed": nothing,
  "queue.admission_expired": nothing,
};

/** The same baseline for the consumer family. */
export const noopConsumerHandlers: HandlerMap<"consumer"> = {
  "consumer.authenticated": nothing,
  "consumer.linked": nothing,
};

/** The same baseline for the draw family. */
export const noopDrawHandlers: HandlerMap<"draw"> = {
  "draw.entry_created": nothing,
  "draw.winners_selected": nothing,
  "draw.prize_claimed": nothing,
  "draw.prize_expired": nothing,
};
