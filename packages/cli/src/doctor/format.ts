import type { CheckResult } from "./check.ts";

/** `ok    redis            Redis 7.2.4 at …`, and for a problem an indented `→ advice` line. */
export function formatChecks(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  return results
    .flatMap((result) => {
      const head = `${result.status.padEnd(4)}  ${result.name.padEnd(width)}  ${result.detail}`;
      return result.advice === undefined || result.status === "ok"
        ? [head]
        : [head, `${" ".repeat(width + 8)}→ ${result.advice}`];
    })
    .join("\n");
}

export function summarize(results: readonly CheckResult[]): { failed: number; warned: number } {
  return {
    failed: results.filter((result) => result.status === "fail").length,
    warned: results.filter((result) => result.status === "warn").length,
  };
}
