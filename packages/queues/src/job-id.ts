// Ids that BullMQ accepts as they are: never a bare integer (BullMQ rejects those), never `:`
// (its key separator), and never starting with `~`, which marks the escaped form below.
const VERBATIM = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * A job's hash lives at `<prefix>:<queue>:<job id>`, next to the queue's own keys
 * (`<prefix>:<queue>:meta`, `:wait`, `:id`, …) and the producer's `:seen:<job id>` markers. A job
 * id equal to one of those names would overwrite or trip over that key (`id` or `wait` make the add
 * fail with WRONGTYPE, `meta` silently corrupts the queue's settings), so they are escaped too.
 */
const RESERVED = new Set([
  "active",
  "completed",
  "de",
  "delayed",
  "dn",
  "events",
  "failed",
  "id",
  "limiter",
  "marker",
  "meta",
  "metrics",
  "paused",
  "pc",
  "prioritized",
  "priority",
  "repeat",
  "seen",
  "stalled",
  "stalled-check",
  "wait",
  "waiting",
  "waiting-children",
]);

/**
 * What an escaped job id is made of after its leading `~`: the characters that encodeURIComponent
 * leaves alone, less `!*'()`. No URL router decodes any of them, so the id reaches Bull Board's
 * API and its UI router unchanged, however many times a layer encodes or decodes it.
 */
export const ESCAPED_JOB_ID = /^~[A-Za-z0-9_.~-]*$/;

/** The characters encodeURIComponent leaves alone that an escaped id spells `~XX` as well. */
const SUB_DELIMITERS = /[!~*'()]/g;

const escapeByte = (character: string) =>
  `~${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;

/**
 * Maps a sender's event id to a BullMQ job id, one-to-one, so that the same event always lands on
 * the same job (natural dedupe) whatever characters the id uses.
 *
 * Typical ids (`evt_01HZ…`: a letter or `_`, then letters, digits, `_`, `.`, `-`) that are not one
 * of BullMQ's key names are kept verbatim so operators can search for them in Bull Board. Any
 * other id becomes `~` followed by its UTF-8 bytes, each letter, digit, `_`, `.` and `-` as it is
 * and every other byte as `~` and two upper-case hex digits (`a:b` → `~a~3Ab`, `~` → `~~7E`,
 * `é` → `~~C3~A9`): percent-encoding with `~` for `%`. The result matches ESCAPED_JOB_ID, so it
 * survives every URL layer unchanged: a `%` in a job id was decoded once too often by Bull Board's
 * routes ("Job not found"). A verbatim id never starts with `~`, so the two forms cannot collide.
 *
 * @throws URIError for a string with a lone UTF-16 surrogate (not valid Unicode; the envelope
 *   schema refuses such ids before they get here).
 */
export function jobIdForEvent(eventId: string): string {
  if (VERBATIM.test(eventId) && !RESERVED.has(eventId)) return eventId;
  const percentEncoded = encodeURIComponent(eventId).replace(SUB_DELIMITERS, escapeByte);
  return `~${percentEncoded.replaceAll("%", "~")}`;
}

/**
 * Inverse of `jobIdForEvent`. Also reads the percent-encoded ids (`~a%3Ab`) that versions before
 * the `~XX` escaping gave their jobs, which may still be in Redis: a `%` never occurs in an id
 * escaped the new way.
 *
 * @throws URIError for an escaped id that no event id maps to (a malformed `~XX` sequence).
 */
export function eventIdForJob(jobId: string): string {
  if (!jobId.startsWith("~")) return jobId;
  const rest = jobId.slice(1);
  return decodeURIComponent(rest.includes("%") ? rest : rest.replaceAll("~", "%"));
}
