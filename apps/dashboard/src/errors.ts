/** Stable, documented error codes; the HTTP status is fixed per code. */
export const errorStatus = {
  DASHBOARD_BAD_REQUEST: 400,
  DASHBOARD_INVALID_JOB_DATA: 400,
  DASHBOARD_UNAUTHENTICATED: 401,
  DASHBOARD_BAD_CREDENTIALS: 401,
  DASHBOARD_READ_ONLY: 403,
  DASHBOARD_COMPLETED_RETRY_DISABLED: 403,
  DASHBOARD_ACTION_DISABLED: 403,
  DASHBOARD_CROSS_SITE_REQUEST: 403,
  DASHBOARD_NOT_FOUND: 404,
  DASHBOARD_TOO_MANY_LOGINS: 429,
  DASHBOARD_INTERNAL: 500,
  DASHBOARD_UNAVAILABLE: 503,
} as const;

export type DashboardErrorCode = keyof typeof errorStatus;

export class DashboardError extends Error {
  override name = "DashboardError";
  readonly statusCode: number;

  constructor(
    readonly code: DashboardErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.statusCode = errorStatus[code];
  }
}

export const errorBody = (code: DashboardErrorCode, error: string) => ({ error, code });

export interface ErrorResponse {
  status: number;
  body: ReturnType<typeof errorBody>;
  /** A server fault, worth an error log line; client mistakes are not. */
  serverFault: boolean;
}

/**
 * The answer to any error thrown while serving a request, by our routes or Bull Board's: a
 * DashboardError keeps its code; Fastify's own client errors (bad JSON, bad content type, body
 * too large, …) keep their 4xx as DASHBOARD_BAD_REQUEST; anything else is a 500
 * DASHBOARD_INTERNAL that says nothing of its cause.
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof DashboardError) {
    return {
      status: error.statusCode,
      body: errorBody(error.code, error.message),
      serverFault: error.statusCode >= 500,
    };
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : "bad request";
    return { status, body: errorBody("DASHBOARD_BAD_REQUEST", message), serverFault: false };
  }
  return {
    status: errorStatus.DASHBOARD_INTERNAL,
    body: errorBody("DASHBOARD_INTERNAL", "internal error"),
    serverFault: true,
  };
}
