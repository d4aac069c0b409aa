import type { Envelope } from "@fanfare-relay/events/envelope";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import type { RelayProcesses } from "./relay-processes.ts";

const found = fixtureEvents.find((event) => event.type === "queue.consumer_entered");
if (found === undefined) throw new Error("no queue.consumer_entered fixture");
const entered: Envelope = found;

export interface DeliveryTally {
  /** Ids answered 200: each must end applied exactly once. */
  acknowledged: string[];
  /** Deliveries answered 503 (the sender retries them later). */
  refused: number;
  /** Any other answer, or a request that failed: none may happen. */
  unexpected: string[];
}

/**
 * `concurrency` loops, each delivering a new `queue.consumer_entered` (a consumer of its own, id
 * `evt_<label>_<n>`) as soon as the previous one is answered, until `stop()`. After the first 503
 * each loop waits 5 ms between deliveries, as a sender backing off would.
 */
export function startDeliveryLoad(relay: RelayProcesses, concurrency: number, label: string) {
  const tally: DeliveryTally = { acknowledged: [], refused: 0, unexpected: [] };
  let sequence = 0;
  let running = true;
  const nextEvent = (): Envelope => {
    sequence += 1;
    return {
      ...entered,
      id: `evt_${label}_${String(sequence)}`,
      data: { ...entered.data, consumerId: `con_${label}_${String(sequence)}` },
    };
  };
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const event = nextEvent();
      try {
        const { status, body } = await relay.deliver(event);
        if (status === 200) tally.acknowledged.push(event.id);
        else if (status === 503) tally.refused += 1;
        else tally.unexpected.push(`${String(status)} ${body}`);
      } catch (error) {
        tally.unexpected.push(String(error));
      }
      if (tally.refused > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
  return {
    tally,
    /** Stops the loops and resolves once every delivery in flight is answered. */
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
