import { LOCAL_DEMO_SECRET } from "@fanfare-relay/config/demo-secret";
import { ok, warn, type CheckResult } from "./check.ts";

const SOURCE_ADVICE =
  "set FANFARE_WEBHOOK_SECRETS to the signing secret from the Fanfare dashboard (comma-separated during a rotation)";

/** Looks at FANFARE_WEBHOOK_SECRETS as the ingest would; never prints a secret. */
export function checkWebhookSecrets(value: string | undefined): CheckResult {
  const secrets = (value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret !== "");
  if (secrets.length === 0) {
    return warn(
      "webhook secret",
      "FANFARE_WEBHOOK_SECRETS is not set here (the ingest refuses to start without it)",
      SOURCE_ADVICE,
    );
  }
  if (secrets.includes(LOCAL_DEMO_SECRET)) {
    return warn(
      "webhook secret",
      "the public demo secret from .env.example is configured: anyone can sign events with it",
      SOURCE_ADVICE,
    );
  }
  return ok("webhook secret", `${String(secrets.length)} secret(s) configured`);
}
