import type { z } from "zod";

export interface SchemaIssue {
  /** Dotted path of the offending field, e.g. `data.winners.0.claimToken`. */
  path: string;
  message: string;
}

/** Flattens zod issues into path + message only: never the offending value, which may be PII. */
export function toSchemaIssues(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): SchemaIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join(".") || "(root)",
    message: issue.message,
  }));
}
