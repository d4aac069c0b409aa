// Ids that BullMQ accepts as they are: never a bare integer (BullMQ rejects those), never `:`
// (its key separator), and never starting with `~`, which marks the escaped form below.
const VERBATIM = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Maps a sender's event id to a BullMQ job id, one-to-one, so that the same event always lands on
 * the same job (natural dedupe) whatever characters the id uses. Typical ids (`evt_01HZ…`) are kept
 * verbatim so operators can search for them in Bull Board; anything else is percent-encoded behind
 * a `~`, which cannot collide with a verbatim id.
 */
export function jobIdForEvent(eventId: string): string {
  if (VERBATIM.test(eventId)) return eventId;
  return `~${encodeURIComponent(eventId).replaceAll("~", "%7E")}`;
}

/** Inverse of `jobIdForEvent`. */
export function eventIdForJob(jobId: string): string {
  return jobId.startsWith("~") ? decodeURIComponent(jobId.slice(1)) : jobId;
}
