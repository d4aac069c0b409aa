import { z } from "zod";
import { toSchemaIssues, type SchemaIssue } from "./issues.ts";

/**
 * The envelope every Fanfare webhook shares. Unknown fields are kept (loose objects) so that a
 * field the sender adds later reaches the workers instead of being silently dropped.
 */
export const envelopeSchema = z.looseObject({
  // Lone UTF-16 surrogates (possible in JSON, `"\ud800"`) cannot be encoded into a job id.
  id: z
    .string()
    .min(1)
    .max(255)
    .refine((id) => !/\p{Cs}/u.test(id), "must be well-formed Unicode"),
  type: z.string().min(1).max(200),
  /** Unix seconds. */
  created: z.number().int().nonnegative(),
  organizationId: z.string().min(1).max(255),
  experienceId: z.string().min(1).max(255).optional(),
  // Only "an object" here: each type's schema checks the fields, and not copying `data` key by
  // key keeps the ingest's hot path cheap.
  data: z.custom<Record<string, unknown>>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    { error: "expected an object" },
  ),
});

export type Envelope = z.infer<typeof envelopeSchema>;

export type EnvelopeParseResult =
  { success: true; envelope: Envelope } | { success: false; issues: SchemaIssue[] };

export function parseEnvelope(value: unknown): EnvelopeParseResult {
  const result = envelopeSchema.safeParse(value);
  return result.success
    ? { success: true, envelope: result.data }
    : { success: false, issues: toSchemaIssues(result.error) };
}
