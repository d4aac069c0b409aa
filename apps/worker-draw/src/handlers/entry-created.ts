import type { EventHandler } from "@fanfare-relay/worker/handler";
import { sql } from "kysely";

export const entryCreated: EventHandler<"draw.entry_created"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { drawId, experienceId, consumerId, entryNumber, createdAt } = event.data;
  // One entry per consumer and draw: a second report keeps the earliest number and instant, so
  // the row does not depend on which report arrived last.
  await tx
    .insertInto("draw_entries")
    .values({
      draw_id: drawId,
      consumer_id: consumerId,
      experience_id: experienceId,
      entry_number: entryNumber,
      created_at: createdAt,
    })
    .onConflict((conflict) =>
      conflict.columns(["draw_id", "consumer_id"]).doUpdateSet({
        entry_number: sql<number>`LEAST(excluded.entry_number, draw_entries.entry_number)`,
        created_at: sql<Date>`LEAST(excluded.created_at, draw_entries.created_at)`,
      }),
    )
    .execute();
  await recordAnalytics("draw_entered", { drawId, experienceId, consumerId, entryNumber });
};
