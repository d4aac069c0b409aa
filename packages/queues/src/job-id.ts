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
 * Maps a sender's event id to a BullMQ job id, one-to-one, so that the same event always lands on
 * the same job (natural dedupe) whatever characters the id uses. Typical ids (`evt_01HZ…`) are kept
 * verbatim so operators can search for them in Bull Board; anything else is percent-encoded behind
 * a `~`, which cannot collide with a verbatim id.
 */
export function jobIdForEvent(eventId: string): string {
  if (VERBATIM.test(eventId) && !RESERVED.has(eventId)) return eventId;
  return `~${encodeURIComponent(eventId).replaceAll("~", "%7E")}`;
}

/** Inverse of `jobIdForEvent`. */
export function eventIdForJob(jobId: string): string {
  return jobId.startsWith("~") ? decodeURIComponent(jobId.slice(1)) : jobId;
}
