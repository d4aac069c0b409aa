import { sql } from "kysely";
import type { EventHandler } from "@fanfare-relay/worker/handler";

export const consumerLeft: EventHandler<"queue.consumer_left"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { consumerId, experienceId, distributionId, reason, leftAt } = event.data;
  // Left before entered (reordered delivery) still leaves one row with both facts.
  await tx
    .insertInto("queue_participants")
    .values({
      experience_id: experienceId,
      consumer_id: consumerId,
      distribution_id: distributionId ?? null,
      left_at: leftAt,
      left_reason: reason ?? null,
    })
    .onConflict((conflict) =>
      conflict.columns(["experience_id", "consumer_id"]).doUpdateSet((eb) => ({
        distribution_id: eb.fn.coalesce(
          "excluded.distribution_id",
          "queue_participants.distribution_id",
        ),
        // The latest exit's reason stands, whatever the arrival order.
        left_reason: sql<string | null>`CASE WHEN queue_participants.left_at IS NULL
          OR excluded.left_at >= queue_participants.left_at
          THEN excluded.left_reason ELSE queue_participants.left_reason END`,
        left_at: sql<Date>`GREATEST(excluded.left_at, queue_participants.left_at)`,
      })),
    )
    .execute();
  await recordAnalytics("queue_left", { consumerId, experienceId, reason: reason ?? null });
};
