import { redactEmailAddresses } from "@fanfare-relay/logging/redact";
import { createHash } from "node:crypto";

/**
 * Values the failure bookkeeping writes, made acceptable to PostgreSQL whatever the job carried:
 * recording that an event failed must never fail on the value that made it fail.
 */

/**
 * Longest id or type kept as it is. A btree index entry holds at most 2,704 bytes (PostgreSQL's
 * limit for `event_id`'s unique index and `type`'s index); 500 characters stay below it in any
 * UTF-8, and are twice what the envelope allows.
 */
export const MAX_KEY_LENGTH = 500;
/** Stored error texts are capped: an error message is a hint, not a dump. */
export const MAX_ERROR_LENGTH = 2000;

/** `text` columns refuse NUL: it becomes the visible escape `\u0000`. */
export function withoutNul(text: string): string {
  return text.replaceAll("\u0000", "\\u0000");
}

/**
 * An id or type as a storable key: NUL escaped, and a value too long for an index cut and given
 * a hash of the whole, so two different long ids stay two keys. Ordinary ids come back unchanged.
 */
export function storableKey(value: string): string {
  const clean = withoutNul(value);
  if (clean.length <= MAX_KEY_LENGTH) return clean;
  const digest = createHash("sha256").update(value).digest("hex").slice(0, 16);
  return `${clean.slice(0, MAX_KEY_LENGTH - 30)}…#sha256:${digest}`;
}

/** An error's text as stored and alerted: no email address, no NUL, at most 2,000 characters. */
export function storableErrorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return withoutNul(redactEmailAddresses(text)).slice(0, MAX_ERROR_LENGTH);
}

/**
 * A copy of an error that is safe to log: name, code, message and stack with email addresses
 * redacted, and none of the other properties (nodemailer errors carry the refused recipients in
 * `rejected` and the server's reply in `response`).
 */
export function loggableError(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redactEmailAddresses(source.message));
  copy.name = source.name;
  copy.stack = source.stack === undefined ? undefined : redactEmailAddresses(source.stack);
  const code = (source as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") {
    (copy as Error & { code?: string | number }).code = code;
  }
  return copy;
}

/**
 * The event time for `created` (unix seconds), or null when it is not one PostgreSQL and
 * JavaScript can both represent (JavaScript's Date ends in the year 275760, before PostgreSQL's
 * timestamptz does; negative values are refused as the envelope does).
 */
export function eventTime(created: unknown): Date | null {
  if (typeof created !== "number" || !Number.isFinite(created) || created < 0) return null;
  const date = new Date(created * 1000);
  return Number.isNaN(date.getTime()) ? null : date;
}

// A JSON `\u0000` escape, i.e. preceded by an even number of backslashes (an odd count would make
// it the literal text "\u0000", which jsonb accepts).
const JSON_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * The JSON text of a payload for a `jsonb` column. jsonb refuses `\u0000` (and JSON.stringify
 * cannot encode every value), so such a payload is kept as a note plus its JSON text, which
 * jsonb stores as an ordinary string: nothing is lost, and the note says why it looks different.
 */
export function storablePayload(payload: unknown): string {
  // undefined for undefined, a function or a symbol, whatever the declared return type says.
  let json: unknown;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    return unstorablePayload(`not JSON: ${storableErrorText(error)}`, undefined);
  }
  if (typeof json !== "string") return unstorablePayload("no payload", undefined);
  if (JSON_NUL.test(json)) return unstorablePayload("contains \\u0000, which jsonb refuses", json);
  return json;
}

/** The fallback form of a payload: a note and the JSON text (if any) as a plain string. */
export function unstorablePayload(reason: string, json: string | undefined): string {
  return JSON.stringify({ unstorablePayload: reason, json: json ?? null });
}

/**
 * True for PostgreSQL errors caused by the values sent, not by the server's state: class 22
 * (data exception: a bad timestamp, NUL in text or `\u0000` in jsonb, a number out of range …)
 * and class 54 (program limit exceeded: e.g. an index entry too large). Retrying cannot fix them.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|54)[0-9A-Z]{3}$/.test(code);
}
