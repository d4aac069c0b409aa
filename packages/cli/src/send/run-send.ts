import type { OutgoingEvent } from "./resolve-input.ts";
import { postEvent, type PostResult, type PostTarget } from "./post-event.ts";

export interface SendOptions extends PostTarget {
  /** Each event is posted this many times at once, as a sender retrying over a flaky network. */
  duplicate?: number;
  shuffle?: boolean;
  random?: () => number;
  /** Called as each delivery is answered. */
  onResult?: (delivery: Delivery) => void;
}

export interface Delivery extends PostResult {
  eventId: string;
  type: string;
}

export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

const field = (event: OutgoingEvent, name: string) => {
  const value = event[name];
  return typeof value === "string" ? value : "?";
};

/** Posts the events one after the other (their copies concurrently) and returns every answer. */
export async function sendEvents(
  events: readonly OutgoingEvent[],
  { duplicate = 1, shuffle = false, random, onResult, ...target }: SendOptions,
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  for (const event of shuffle ? shuffled(events, random) : events) {
    const copies = await Promise.all(
      Array.from({ length: duplicate }, async () => {
        const result = await postEvent(event, target);
        const delivery = { ...result, eventId: field(event, "id"), type: field(event, "type") };
        onResult?.(delivery);
        return delivery;
      }),
    );
    deliveries.push(...copies);
  }
  return deliveries;
}

/** `200 evt_… queue.consumer_entered {"received":true}` */
export function formatDelivery(delivery: Delivery): string {
  const status = delivery.status === undefined ? "ERR" : String(delivery.status);
  return `${status} ${delivery.eventId} ${delivery.type} ${delivery.body.trim()}`;
}

/** One line saying what failed and what to check; undefined when every delivery got a 2xx. */
export function describeFailures(deliveries: readonly Delivery[], url: string): string | undefined {
  const failed = deliveries.filter((delivery) => !delivery.ok);
  if (failed.length === 0) return undefined;
  const of = `${failed.length} of ${deliveries.length} deliveries failed`;
  const unanswered = failed.find((delivery) => delivery.status === undefined);
  if (unanswered !== undefined) {
    return `${of}: could not reach the ingest at ${url} (${unanswered.body}); is it running? (pnpm start)`;
  }
  const statuses = [...new Set(failed.map((delivery) => delivery.status))].join(", ");
  const hint = failed.some((delivery) => delivery.status === 401)
    ? "; check --secret (or FANFARE_WEBHOOK_SECRETS) against the ingest's"
    : "";
  return `${of} (HTTP ${statuses})${hint}`;
}
