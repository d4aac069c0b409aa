import { z } from "zod";

/** Fields every app's env schema shares, so each variable means the same thing everywhere. */

export const integer = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).default(fallback);

export const port = (fallback: number) => integer(0, fallback).pipe(z.number().max(65535));

export const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"], { error: "must be true or false" })
    .default(fallback ? "true" : "false")
    .transform((value) => value === "true" || value === "1");

export const redisUrl = z
  .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
  .default("redis://127.0.0.1:6379");

export const databaseUrl = z
  .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" })
  .optional();

export const logLevel = z
  .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
  .default("info");

export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/** `true`/`false`, a hop count, or a comma-separated list of trusted proxy addresses/CIDRs. */
export const trustProxy = z
  .string()
  .trim()
  .default("false")
  .transform((value): TrustProxy => {
    if (value === "true") return true;
    if (value === "false" || value === "") return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      return (_address, hop) => hop < hops;
    }
    return value;
  });

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Empty strings (e.g. `PORT=` in a .env file) mean "not set". */
export function presentValues(env: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
}

/** One line per problem, naming the variable and never its value. */
export function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

export function configError(app: string, problems: readonly string[]): ConfigError {
  return new ConfigError(
    `Invalid ${app} configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  );
}

/** Parses the environment once, at start; every problem is reported in one message. */
export function parseEnv<S extends z.ZodType>(
  app: string,
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(presentValues(env));
  if (result.success) return result.data;
  throw configError(app, problemsOf(result.error));
}
