import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { drawWinnerEmailKey } from "@fanfare-relay/emails/draw-winner";
import { mergeWinners } from "../draw-winners.ts";

export const prizeExpired: BatchHandler<"draw.prize_expired"> = {
  async applyBatch({ tx, events, cancelEmails, recordAnalytics }) {
    // Only the instant is a new fact; a claim seen before or after still wins (derived status).
    await mergeWinners(
      tx,
      events.map(({ data }) => ({
        drawId: data.drawId,
        experienceId: data.experienceId,
        consumerId: data.consumerId,
        expiredAt: data.expiresAt,
      })),
      "none",
    );
    // The batch holds the consumers' locks, which makes a mail the consumer worker queues
    // concurrently visible to this cancel.
    await cancelEmails(events.map(({ data }) => drawWinnerEmailKey(data.drawId, data.consumerId)));
    for (const event of events) {
      const { drawId, experienceId, consumerId } = event.data;
      recordAnalytics(event, "prize_expired", { drawId, experienceId, consumerId });
    }
  },
};
