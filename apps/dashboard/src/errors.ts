/** Stable, documented error codes; the HTTP status is fixed per code. */
export const errorStatus = {
  DASHBOARD_BAD_REQUEST: 400,
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
