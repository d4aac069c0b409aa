import type { Database } from "@fanfare-relay/db/schema";
import type { Transaction } from "kysely";

/** The consumer's email as far as consumer events have told us; undefined means "send nothing". */
export async function findConsumerEmail(
  tx: Transaction<Database>,
  consumerId: string,
): Promise<string | undefined> {
  const row = await tx
    .selectFrom("consumers")
    .select("email")
    .where("id", "=", consumerId)
    .executeTakeFirst();
  return row?.email ?? undefined;
}
