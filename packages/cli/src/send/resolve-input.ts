import { eventTypes, isEventType } from "@fanfare-relay/events/catalogue";
import { fixtureEvents } from "@fanfare-relay/events/fixtures";
import { readFile, stat } from "node:fs/promises";
import { CliError } from "../cli-error.ts";
import { sampleEventOfType } from "./sample-event.ts";

/** What `send` posts: normally an envelope, but a file may hold anything worth testing the door with. */
export type OutgoingEvent = Record<string, unknown>;

export interface ResolveOptions {
  /** Events of a type to make, each with its own id (only for an event type). */
  count?: number;
  now?: Date;
}

const isObject = (value: unknown): value is OutgoingEvent =>
  typeof value === "object" && value !== null && !Array.isArray(value);

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readEventsFile(path: string): Promise<OutgoingEvent[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError("CLI_BAD_FILE", `${path} is not readable JSON: ${reason}`);
  }
  const events = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  const bad = events.findIndex((event) => !isObject(event));
  if (bad !== -1 || events.length === 0) {
    throw new CliError(
      "CLI_BAD_FILE",
      `${path} must hold one event object or a non-empty array of them` +
        (bad !== -1 && Array.isArray(parsed) ? ` (item ${bad} is not an object)` : ""),
    );
  }
  return events as OutgoingEvent[];
}

/**
 * `send`'s argument: an event type (a fresh sample per --count), a fixture id (the fixture as it
 * is, id included, so sending it twice shows the dedupe), or a JSON file (one envelope or an array).
 */
export async function resolveEvents(
  input: string,
  { count = 1, now = new Date() }: ResolveOptions = {},
): Promise<OutgoingEvent[]> {
  if (isEventType(input)) {
    return Array.from({ length: count }, () => sampleEventOfType(input, now));
  }
  const onlyOne = () => {
    if (count !== 1) throw new CliError("CLI_BAD_OPTION", "--count only applies to an event type");
  };
  const fixture = fixtureEvents.find((event) => event.id === input);
  if (fixture !== undefined) {
    onlyOne();
    return [structuredClone(fixture)];
  }
  if (await isFile(input)) {
    onlyOne();
    return readEventsFile(input);
  }
  throw new CliError(
    "CLI_UNKNOWN_INPUT",
    `"${input}" is neither an event type, a fixture id nor a file. Event types: ${eventTypes.join(", ")}`,
  );
}
