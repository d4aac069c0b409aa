import type { Random } from "./random.ts";

export interface PlanOptions {
  /** Fraction of the events delivered a second time (0–1). */
  duplicates: number;
  /** Deliveries are shuffled within consecutive windows of this many. */
  window: number;
  random: Random;
}

/**
 * The order the sender delivers in: some events twice (the copy a little later, sometimes racing
 * the original, sometimes after it was processed), and every window shuffled so that events
 * arrive before their predecessors.
 */
export function planDeliveries<T>(events: readonly T[], options: PlanOptions): T[] {
  const { duplicates, window, random } = options;
  const copies = Math.round(events.length * duplicates);
  const doubled = new Set(random.shuffle(events.map((_, index) => index)).slice(0, copies));
  const keyed = events.flatMap((event, index) =>
    doubled.has(index)
      ? [
          { key: index, event },
          { key: index + random.int(0, 3 * window) + 0.5, event },
        ]
      : [{ key: index, event }],
  );
  const sequence = keyed.sort((a, b) => a.key - b.key).map(({ event }) => event);
  const planned: T[] = [];
  for (let start = 0; start < sequence.length; start += Math.max(1, window)) {
    planned.push(...random.shuffle(sequence.slice(start, start + Math.max(1, window))));
  }
  return planned;
}
