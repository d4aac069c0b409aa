import { timingSafeEqual, type KeyObject } from "node:crypto";
import { parseSignatureHeader } from "./parse-header.ts";
import { computeSignature, type Payload } from "./sign.ts";

export const DEFAULT_TOLERANCE_SECONDS = 300;

export type VerifyFailureReason =
  "missing_header" | "malformed_header" | "timestamp_out_of_tolerance" | "no_matching_signature";

export type VerifyResult =
  | {
      ok: true;
      /** The signed timestamp (unix seconds). */
      timestamp: number;
      /** Index into `secrets` of the secret that matched, for rotation metrics. */
      secretIndex: number;
    }
  | { ok: false; reason: VerifyFailureReason };

export interface VerifyOptions {
  /** The raw request body, byte for byte as received. */
  payload: Payload;
  /** The `X-Fanfare-Signature` header as Node hands it over. */
  header: string | readonly string[] | undefined;
  /**
   * Every currently valid secret; any one of them verifies (rotation). A KeyObject made once with
   * `secretKey(secret)` saves the HMAC from importing the key on every call.
   */
  secrets: readonly (string | KeyObject)[];
  /** Allowed clock difference in seconds, past and future alike. */
  toleranceSeconds?: number;
  /** Current time in unix seconds (for tests). */
  now?: number;
}

/** Verifies a Fanfare signature. Never throws on attacker-controlled input; says why it failed. */
export function verify({
  payload,
  header,
  secrets,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  now = Math.floor(Date.now() / 1000),
}: VerifyOptions): VerifyResult {
  if (header === undefined || header.length === 0) return { ok: false, reason: "missing_header" };
  const parsed = parseSignatureHeader(typeof header === "string" ? header : header.join(","));
  if (!parsed) return { ok: false, reason: "malformed_header" };
  if (Math.abs(now - parsed.timestamp) > toleranceSeconds) {
    return { ok: false, reason: "timestamp_out_of_tolerance" };
  }
  for (let secretIndex = 0; secretIndex < secrets.length; secretIndex++) {
    const secret = secrets[secretIndex];
    if (secret === undefined) continue;
    const expected = computeSignature(payload, secret, parsed.timestamp);
    // Every candidate is compared so the time taken does not depend on which one matched.
    let matched = false;
    for (const candidate of parsed.signatures) {
      if (timingSafeEqual(candidate, expected)) matched = true;
    }
    if (matched) return { ok: true, timestamp: parsed.timestamp, secretIndex };
  }
  return { ok: false, reason: "no_matching_signature" };
}
