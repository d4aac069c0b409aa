export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found, for the operator (never a secret or a password). */
  detail: string;
  /** What to do about it; set for warn and fail. */
  advice?: string | undefined;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail });

export const warn = (name: string, detail: string, advice: string): CheckResult => ({
  name,
  status: "warn",
  detail,
  advice,
});

export const fail = (name: string, detail: string, advice: string): CheckResult => ({
  name,
  status: "fail",
  detail,
  advice,
});
