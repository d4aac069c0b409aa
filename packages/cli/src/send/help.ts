import { eventTypes } from "@fanfare-relay/events/catalogue";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";

/**
 * The inputs `send` accepts besides a file, for its --help: every event type of the catalogue,
 * then every fixture id with its type, one per line.
 */
export function sendInputsHelp(): string {
  const width = Math.max(...fixtureEvents.map((event) => event.id.length));
  return [
    "",
    "Event types (a fresh sample with its own id):",
    ...eventTypes.map((type) => `  ${type}`),
    "",
    "Fixture ids (the fixture as it is, id included, so a second send is a duplicate):",
    ...fixtureEvents.map((event) => `  ${event.id.padEnd(width)}  ${event.type}`),
  ].join("\n");
}
