import type { Envelope } from "@fanfare-relay/events/envelope";
import { dropEventMix } from "./drop-event-mix.ts";

export interface DrawEventMix {
  /** In delivery order (by when each happened): entries, selections, claims and expiries. */
  events: Envelope[];
  /** The consumers they name (entrants and winners), each once. */
  consumerIds: string[];
}

/**
 * A drop as the draw family sees it: the draw events of {@link dropEventMix} (draws of 1 000
 * entries, 5 % of entrants win, 7 in 10 winners claim, the rest expire), taken from a drop big
 * enough to hold `total` of them. The surplus is taken from the entries (spread over the drop),
 * never from a selection, claim or expiry, so every draw keeps its whole lifecycle.
 */
export function drawEventMix(total: number): DrawEventMix {
  const isDrawEvent = (event: Envelope) => event.type.startsWith("draw.");
  // Draw events are about 10 % of a drop; grow it until it holds enough.
  let drop = Math.ceil(total * 11);
  let events = dropEventMix(drop).events.filter(isDrawEvent);
  while (events.length < total) {
    drop = Math.ceil((drop * total * 1.05) / Math.max(1, events.length));
    events = dropEventMix(drop).events.filter(isDrawEvent);
  }
  const entries = events.filter((event) => event.type === "draw.entry_created");
  const surplus = events.length - total;
  const dropped = new Set(
    Array.from({ length: surplus }, (_, index) =>
      Math.floor((index * entries.length) / Math.max(1, surplus)),
    ).map((index) => entries[index]),
  );
  events = events.filter((event) => !dropped.has(event));
  const consumerIds = new Set<string>();
  for (const { data } of events) {
    if (typeof data.consumerId === "string") consumerIds.add(data.consumerId);
    if (Array.isArray(data.winners)) {
      for (const winner of data.winners as { consumerId: string }[]) {
        consumerIds.add(winner.consumerId);
      }
    }
  }
  return { events, consumerIds: [...consumerIds] };
}
