import { sql } from "kysely";
import type { EventHandler } from "@fanfare-relay/worker/handler";

export const consumerEntered: EventHandler<"queue.consumer_entered"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { consumerId, experienceId, distributionId, position, enteredAt } = event.data;
  await tx
    .insertInto("queue_participants")
    .values({
      experience_id: experienceId,
      consumer_id: consumerId,
      distribution_id: distributionId ?? null,
      position,
      entered_at: enteredAt,
    })
    .onConflict((conflict) =>
      conflict.columns(["experience_id", "consumer_id"]).doUpdateSet((eb) => ({
        distribution_id: eb.fn.coalesce(
          "excluded.distribution_id",
          "queue_participants.distribution_id",
        ),
        // A re-entry: the latest entry's position stands, whatever the arrival order.
        position: sql<number>`CASE WHEN queue_participants.entered_at IS NULL
          OR excluded.entered_at >= queue_participants.entered_at
          THEN excluded.position ELSE queue_participants.position END`,
        entered_at: sql<Date>`GREATEST(excluded.entered_at, queue_participants.entered_at)`,
      })),
    )
    .execute();
  await recordAnalytics("queue_entered", { consumerId, experienceId, position });
};
