import type { Envelope } from "./envelope.ts";
import events from "./fixtures/events.json" with { type: "json" };

/** One sample envelope of each documented event type, as the sender delivers them. */
export const fixtureEvents: readonly Envelope[] = events;
