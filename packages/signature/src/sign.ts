import { createHmac, createSecretKey, type KeyObject } from "node:crypto";

export type Payload = string | Uint8Array;

/**
 * A signing secret as a KeyObject (its UTF-8 bytes, as when the string is passed), for a caller
 * that signs or verifies with the same secret many times.
 */
export function secretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, "utf8"));
}

/** HMAC-SHA256 of `"<timestamp>.<raw body>"` (32 bytes), the `v1` scheme of `X-Fanfare-Signature`. */
export function computeSignature(
  payload: Payload,
  secret: string | KeyObject,
  timestamp: number,
): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(payload).digest();
}

export interface SignOptions {
  payload: Payload;
  /** One `v1` entry is written per secret, as a sender does while it rotates secrets. */
  secrets: string | readonly string[];
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** Builds an `X-Fanfare-Signature` header value: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`. */
export function sign({ payload, secrets, timestamp = Math.floor(Date.now() / 1000) }: SignOptions) {
  const list = typeof secrets === "string" ? [secrets] : secrets;
  if (list.length === 0) throw new Error("sign: at least one secret is required");
  const entries = list.map(
    (secret) => `v1=${computeSignature(payload, secret, timestamp).toString("hex")}`,
  );
  return `t=${timestamp},${entries.join(",")}`;
}
