import type { Envelope } from "@fanfare-relay/events/envelope";
import { dropEventMix } from "./drop-event-mix.ts";

export interface ConsumerEventMix {
  /** In delivery order (by when each happened): sign-ins and account links, exactly `total`. */
  events: Envelope[];
  /** The consumers they name, each once. */
  consumerIds: string[];
}

/**
 * A drop as the consumer family sees it: the consumer events of {@link dropEventMix} (80 % of
 * sign-ins carry an email, 20 % of shoppers also link a shop account), taken from a drop big
 * enough to hold `total` of them.
 */
export function consumerEventMix(total: number): ConsumerEventMix {
  const isConsumerEvent = (event: Envelope) => event.type.startsWith("consumer.");
  // Consumer events are about 37 % of a drop; grow it until it holds enough.
  let drop = Math.ceil(total * 3);
  let events = dropEventMix(drop).events.filter(isConsumerEvent);
  while (events.length < total) {
    drop = Math.ceil((drop * total * 1.1) / Math.max(1, events.length));
    events = dropEventMix(drop).events.filter(isConsumerEvent);
  }
  events = events.slice(0, total);
  const consumerIds = new Set<string>();
  for (const { data } of events) {
    if (typeof data.consumerId === "string") consumerIds.add(data.consumerId);
  }
  return { events, consumerIds: [...consumerIds] };
}
