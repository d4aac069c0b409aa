/**
 * Builds an outbox key from its parts, each percent-encoded so that ids containing the separator
 * cannot make two logical emails share a key (or one key be a prefix of another's).
 */
export function emailKey(...parts: (string | number)[]): string {
  return parts.map((part) => encodeURIComponent(String(part))).join(":");
}
