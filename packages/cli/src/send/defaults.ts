import { Option } from "commander";
import { LOCAL_DEMO_SECRET } from "@fanfare-relay/config/demo-secret";
import { CliError } from "../cli-error.ts";

export const DEFAULT_INGEST_URL = "http://127.0.0.1:3000/webhooks/fanfare";

export interface IngestTarget {
  url: string;
  secret: string;
}

/**
 * Where to deliver and how to sign: the flag, else the variable the ingest itself reads (its first
 * secret), else `pnpm start`'s local defaults. An empty variable counts as unset.
 */
export function resolveIngestTarget(
  flags: { url?: string | undefined; secret?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): IngestTarget {
  const envUrl = env.FANFARE_INGEST_URL?.trim();
  const url = flags.url ?? (envUrl === undefined || envUrl === "" ? DEFAULT_INGEST_URL : envUrl);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    const origin = flags.url === undefined ? "FANFARE_INGEST_URL" : "--url";
    throw new CliError("CLI_BAD_OPTION", `${origin} must be an http:// or https:// URL`);
  }
  const envSecret = (env.FANFARE_WEBHOOK_SECRETS ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .find((secret) => secret !== "");
  const secret = flags.secret ?? envSecret ?? LOCAL_DEMO_SECRET;
  if (secret === "") throw new CliError("CLI_BAD_OPTION", "--secret must not be empty");
  return { url, secret };
}

/** --url and --secret, shared by send and simulate; resolved by resolveIngestTarget. */
export function ingestOptions(): Option[] {
  return [
    new Option(
      "--url <url>",
      "ingest URL (default: $FANFARE_INGEST_URL, else pnpm start's ingest)",
    ),
    new Option(
      "--secret <secret>",
      "signing secret (default: $FANFARE_WEBHOOK_SECRETS' first, else the local demo secret)",
    ),
  ];
}
