const MAX_HEADER_LENGTH = 4096;
const MAX_SIGNATURES = 16;
const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

export interface ParsedHeader {
  timestamp: number;
  /** Decoded `v1` digests (32 bytes each). */
  signatures: Buffer[];
}

/**
 * Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`. Unknown schemes (`v0=`, future `v2=`) are
 * ignored; a header repeated by a proxy (joined with `, `) parses as long as its `t` agrees.
 * Returns undefined for anything malformed, never throws.
 */
export function parseSignatureHeader(header: string): ParsedHeader | undefined {
  if (header.length === 0 || header.length > MAX_HEADER_LENGTH) return undefined;
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const rawPart of header.split(",")) {
    const part = rawPart.trim();
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === "t") {
      if (!TIMESTAMP.test(value) || (timestamp !== undefined && timestamp !== value))
        return undefined;
      timestamp = value;
    } else if (key === "v1") {
      if (!HEX_SHA256.test(value) || signatures.length >= MAX_SIGNATURES) return undefined;
      signatures.push(Buffer.from(value, "hex"));
    }
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp: Number(timestamp), signatures };
}
