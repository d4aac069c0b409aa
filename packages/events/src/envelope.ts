import { z } from "zod";
import { toSchemaIssues, type SchemaIssue } from "./issues.ts";

/** Earliest `created` accepted: 2000-01-01T00:00:00Z, in unix seconds. */
export const CREATED_MIN_SECONDS = 946_684_800;
/** Latest `created` accepted: 2100-01-01T00:00:00Z, in unix seconds (milliseconds are refused). */
export const CREATED_MAX_SECONDS = 4_102_444_800;
/**
 * Deepest nesting of objects and arrays accepted, the envelope itself being level 1 and `data`
 * level 2. Far beyond any documented event; a signed 10,000-deep body would otherwise overflow the
 * stack when BullMQ serialises the job, and be refused with a 503 on every redelivery.
 */
export const MAX_NESTING_DEPTH = 32;
export const MAX_ID_LENGTH = 255;
export const MAX_TYPE_LENGTH = 200;

// NUL: PostgreSQL's text and jsonb refuse it. A lone UTF-16 surrogate (possible in JSON as
// `"\ud800"`) cannot be encoded as UTF-8: jsonb refuses it, text would silently get U+FFFD, and a
// job id cannot be made of it.
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE_CHARACTER = /[\u0000\p{Cs}]/u;
const UNSTORABLE_MESSAGE = "must not contain NUL (\\u0000) or a lone UTF-16 surrogate";
// Issue paths name fields, and a key can be as long as the body: keep paths readable.
const MAX_KEY_IN_PATH = 64;

/** A bounded string of the envelope; checked on its own so that its issue is reported at once. */
const field = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !UNSTORABLE_CHARACTER.test(value), UNSTORABLE_MESSAGE);

interface Unstorable {
  /** Innermost key first; reversed once, on the way out. */
  reversedPath: PropertyKey[];
  message: string;
}

/**
 * Finds the first place in a parsed JSON value that the system could not store or process: a
 * string or key with NUL or a lone surrogate, a non-finite number, or nesting deeper than
 * MAX_NESTING_DEPTH. One pass over the value; recursion is bounded by the depth limit.
 */
function findUnstorable(
  value: unknown,
  depth: number,
  skipKeys?: ReadonlySet<string>,
): Unstorable | undefined {
  if (typeof value === "string") {
    return UNSTORABLE_CHARACTER.test(value)
      ? { reversedPath: [], message: UNSTORABLE_MESSAGE }
      : undefined;
  }
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? undefined
      : { reversedPath: [], message: "must be a finite number" };
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (depth > MAX_NESTING_DEPTH) {
    return {
      reversedPath: [],
      message: `is nested deeper than ${MAX_NESTING_DEPTH} levels of objects and arrays`,
    };
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnstorable(value[index], depth + 1);
      if (found) {
        found.reversedPath.push(index);
        return found;
      }
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key) || skipKeys?.has(key)) continue;
    const shownKey = key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}…` : key;
    if (UNSTORABLE_CHARACTER.test(key)) {
      return { reversedPath: [shownKey], message: `key ${UNSTORABLE_MESSAGE}` };
    }
    const found = findUnstorable(record[key], depth + 1);
    if (found) {
      found.reversedPath.push(shownKey);
      return found;
    }
  }
  return undefined;
}

/**
 * The first field of a parsed JSON value that the system could not store or process, by the rules
 * the envelope applies to its whole body (the value being level 1, as the envelope is): a string or
 * key with NUL or a lone UTF-16 surrogate, a non-finite number, or objects and arrays nested deeper
 * than MAX_NESTING_DEPTH. For data that reaches Redis and PostgreSQL other than through the ingest
 * (an operator's edit of a job's data). The issue names the field by path, never its value.
 *
 * @returns undefined when everything can be stored
 */
export function findUnstorableField(value: unknown): SchemaIssue | undefined {
  const found = findUnstorable(value, 1);
  if (found === undefined) return undefined;
  return {
    path: found.reversedPath.reverse().map(String).join(".") || "(root)",
    message: found.message,
  };
}

/** The envelope's string fields, checked by their own schema before the whole-body walk. */
const CHECKED_FIELDS: ReadonlySet<string> = new Set([
  "id",
  "type",
  "organizationId",
  "experienceId",
]);

/**
 * The envelope every Fanfare webhook shares. Unknown fields are kept (loose objects) so that a
 * field the sender adds later reaches the workers instead of being silently dropped.
 *
 * Every field is bounded to what the system can store and process (the ingest checks at the door
 * and each worker again, so both agree): `created` is unix seconds from 2000-01-01 to 2100-01-01,
 * ids at most 255 characters, `type` at most 200, no string or key anywhere in the body contains
 * NUL or a lone surrogate, no number is infinite, and objects and arrays nest at most
 * MAX_NESTING_DEPTH levels. The whole-body check runs once the fields themselves are valid.
 */
export const envelopeSchema = z
  .looseObject({
    id: field(MAX_ID_LENGTH),
    type: field(MAX_TYPE_LENGTH),
    /** Unix seconds. */
    created: z
      .number()
      .int()
      .min(
        CREATED_MIN_SECONDS,
        "must be unix seconds from 2000-01-01 (946684800) to 2100-01-01 (4102444800)",
      )
      .max(
        CREATED_MAX_SECONDS,
        "must be unix seconds from 2000-01-01 (946684800) to 2100-01-01 (4102444800)",
      ),
    organizationId: field(MAX_ID_LENGTH),
    experienceId: field(MAX_ID_LENGTH).optional(),
    // Only "an object" here: each type's schema checks the fields, and not copying `data` key by
    // key keeps the ingest's hot path cheap.
    data: z.custom<Record<string, unknown>>(
      (value) => typeof value === "object" && value !== null && !Array.isArray(value),
      { error: "expected an object" },
    ),
  })
  .superRefine((envelope, context) => {
    // The named string fields have their own check; the rest (data, extra fields) is walked here,
    // in place rather than on a copy without them.
    const found = findUnstorable(envelope, 1, CHECKED_FIELDS);
    if (found) {
      context.addIssue({
        code: "custom",
        path: found.reversedPath.reverse(),
        message: found.message,
      });
    }
  });

export type Envelope = z.infer<typeof envelopeSchema>;

export type EnvelopeParseResult =
  { success: true; envelope: Envelope } | { success: false; issues: SchemaIssue[] };

/**
 * Validates a parsed JSON body as an envelope. Never throws; on failure the issues name each
 * offending field by path (never its value).
 */
export function parseEnvelope(value: unknown): EnvelopeParseResult {
  const result = envelopeSchema.safeParse(value);
  return result.success
    ? { success: true, envelope: result.data }
    : { success: false, issues: toSchemaIssues(result.error) };
}
