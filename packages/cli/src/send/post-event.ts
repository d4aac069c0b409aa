import { sign } from "@fanfare-relay/signature/sign";

export interface PostTarget {
  url: string;
  secret: string;
  /** An attempt that has not been answered by then counts as failed (the sender's timeout). */
  timeoutMs?: number;
}

export interface PostResult {
  /** The HTTP status; undefined when no answer came (connection error, timeout). */
  status: number | undefined;
  /** The response body, or what went wrong when there was no answer. */
  body: string;
  ok: boolean;
}

/** Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND, bad port …) in `cause`. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code)
      ? `${code} ${cause.message}`
      : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * One delivery attempt as the sender makes it: the exact JSON bytes, signed with a timestamp of
 * now (each attempt is signed again, so a late retry is still within the tolerance).
 */
export async function postEvent(
  event: unknown,
  { url, secret, timeoutMs = 10_000 }: PostTarget,
): Promise<PostResult> {
  const payload = JSON.stringify(event);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-fanfare-signature": sign({ payload, secrets: secret }),
      },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    return { status: response.status, body, ok: response.ok };
  } catch (error) {
    return { status: undefined, body: describeFailure(error, timeoutMs), ok: false };
  }
}
