import type { SchemaIssue } from "@fanfare-relay/events/issues";
import type { VerifyFailureReason } from "@fanfare-relay/signature/verify";

/** Stable, documented error codes; the HTTP status is fixed per code. */
export const errorStatus = {
  INGEST_MISSING_SIGNATURE: 401,
  INGEST_MALFORMED_SIGNATURE: 401,
  INGEST_TIMESTAMP_OUT_OF_TOLERANCE: 401,
  INGEST_BAD_SIGNATURE: 401,
  INGEST_INVALID_JSON: 400,
  INGEST_FORBIDDEN_KEY: 400,
  INGEST_INVALID_ENVELOPE: 400,
  INGEST_BAD_REQUEST: 400,
  INGEST_NOT_FOUND: 404,
  INGEST_METHOD_NOT_ALLOWED: 405,
  INGEST_REQUEST_TIMEOUT: 408,
  INGEST_BODY_TOO_LARGE: 413,
  INGEST_UNSUPPORTED_MEDIA_TYPE: 415,
  INGEST_HEADERS_TOO_LARGE: 431,
  INGEST_INTERNAL: 500,
  INGEST_UNAVAILABLE: 503,
  INGEST_REDIS_MAY_EVICT: 503,
  INGEST_SHUTTING_DOWN: 503,
} as const;

export type IngestErrorCode = keyof typeof errorStatus;

export class IngestError extends Error {
  override name = "IngestError";
  readonly statusCode: number;

  constructor(
    readonly code: IngestErrorCode,
    message: string,
    readonly details?: { issues?: SchemaIssue[] },
  ) {
    super(message);
    this.statusCode = errorStatus[code];
  }
}

const signatureFailures: Record<VerifyFailureReason, [IngestErrorCode, string]> = {
  missing_header: ["INGEST_MISSING_SIGNATURE", "X-Fanfare-Signature header is missing"],
  malformed_header: [
    "INGEST_MALFORMED_SIGNATURE",
    "X-Fanfare-Signature header is malformed: expected t=<unix seconds>,v1=<64 hex chars>",
  ],
  timestamp_out_of_tolerance: [
    "INGEST_TIMESTAMP_OUT_OF_TOLERANCE",
    "signature timestamp is outside the allowed tolerance; check the server clock",
  ],
  no_matching_signature: ["INGEST_BAD_SIGNATURE", "signature does not match any configured secret"],
};

export function signatureError(reason: VerifyFailureReason): IngestError {
  const [code, message] = signatureFailures[reason];
  return new IngestError(code, message);
}
