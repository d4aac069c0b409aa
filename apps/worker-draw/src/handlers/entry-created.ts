import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { inRounds } from "@fanfare-relay/worker/rounds";
import { sql } from "kysely";
import { winnerKey } from "../draw-winners.ts";

export const entryCreated: BatchHandler<"draw.entry_created"> = {
  async applyBatch({ tx, events, recordAnalytics }) {
    // One entry per consumer and draw: a second report keeps the earliest number and instant, so
    // the row does not depend on which report arrived last. One statement per round (inRounds:
    // an entry reported twice in the batch is merged twice, in event-time order).
    for (const round of inRounds(events, ({ data }) => winnerKey(data.drawId, data.consumerId))) {
      await tx
        .insertInto("draw_entries")
        .values(
          round.map(({ data }) => ({
            draw_id: data.drawId,
            consumer_id: data.consumerId,
            experience_id: data.experienceId,
            entry_number: data.entryNumber,
            created_at: data.createdAt,
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(["draw_id", "consumer_id"]).doUpdateSet({
            entry_number: sql<number>`LEAST(excluded.entry_number, draw_entries.entry_number)`,
            created_at: sql<Date>`LEAST(excluded.created_at, draw_entries.created_at)`,
          }),
        )
        .execute();
    }
    for (const event of events) {
      const { drawId, experienceId, consumerId, entryNumber } = event.data;
      recordAnalytics(event, "draw_entered", { drawId, experienceId, consumerId, entryNumber });
    }
  },
};
