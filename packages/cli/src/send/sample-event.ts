import type { EventType } from "@fanfare-relay/events/catalogue";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { randomUUID } from "node:crypto";

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function shiftInstants(value: unknown, deltaMs: number): unknown {
  if (typeof value === "string" && ISO_INSTANT.test(value)) {
    return new Date(Date.parse(value) + deltaMs).toISOString();
  }
  if (Array.isArray(value)) return value.map((item) => shiftInstants(item, deltaMs));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, shiftInstants(item, deltaMs)]),
    );
  }
  return value;
}

export function freshEventId(): string {
  return `evt_cli_${randomUUID().replaceAll("-", "")}`;
}

/**
 * The fixture of a type as if it happened now: a fresh id, `created` = now, and every instant in
 * `data` moved by the same amount. Deadlines keep their distance from the event, so an admission
 * still expires 10 minutes after it is granted and a claim deadline is still a day ahead: the
 * event is not stale and its mail is sent.
 */
export function sampleEventOfType(type: EventType, now: Date = new Date()): Envelope {
  const fixture = fixtureEvents.find((event) => event.type === type);
  if (fixture === undefined) throw new Error(`no fixture for ${type}`);
  const created = Math.floor(now.getTime() / 1000);
  const deltaMs = (created - fixture.created) * 1000;
  return {
    ...fixture,
    id: freshEventId(),
    created,
    data: shiftInstants(fixture.data, deltaMs) as Envelope["data"],
  };
}
