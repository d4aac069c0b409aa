import type { Database } from "@fanfare-relay/db/schema";
import { sql, type Kysely } from "kysely";
import { CliError } from "../cli-error.ts";
import { postEvent } from "../send/post-event.ts";

/**
 * Checks the URL and the secret before a drop whose every event would otherwise go through the
 * whole retry schedule: a signed `{}` is refused as an invalid envelope (400, nothing enqueued)
 * when the secret is right, as unauthorized (401) when it is not.
 */
export async function probeIngest(url: string, secret: string, timeoutMs = 5_000): Promise<void> {
  const probe = await postEvent({}, { url, secret, timeoutMs });
  if (probe.status === undefined) {
    throw new CliError(
      "CLI_INGEST_UNREACHABLE",
      `cannot reach the ingest at ${url} (${probe.body}); start it with pnpm start, or pass --url`,
    );
  }
  if (probe.status === 401) {
    throw new CliError(
      "CLI_INGEST_REFUSED_SIGNATURE",
      `the ingest at ${url} refused the signature (401); --secret (or FANFARE_WEBHOOK_SECRETS) must be one of its secrets`,
    );
  }
}

/** The simulation reads webhook_events and the domain tables: they must be there. */
export async function checkDatabase(db: Kysely<Database>, shownUrl: string): Promise<void> {
  try {
    await sql`SELECT 1 FROM webhook_events LIMIT 1`.execute(db);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "42P01") {
      throw new CliError(
        "CLI_DATABASE_NOT_MIGRATED",
        `the database at ${shownUrl} has no webhook_events table; run pnpm db:migrate`,
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      "CLI_DATABASE_UNREACHABLE",
      `cannot query the database at ${shownUrl} (${reason}); start it with pnpm start, or pass --database-url`,
    );
  }
}
