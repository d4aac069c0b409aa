import type { EventHandler } from "@fanfare-relay/worker/handler";
import { lockConsumer } from "@fanfare-relay/worker/consumer-email";
import { drawWinnerEmailKey } from "@fanfare-relay/emails/draw-winner";
import { mergeWinners } from "../draw-winners.ts";

export const prizeExpired: EventHandler<"draw.prize_expired"> = async (context) => {
  const { tx, event } = context;
  const { drawId, experienceId, consumerId, expiresAt } = event.data;
  // Only the instant is a new fact; a claim seen before or after still wins (derived status).
  await mergeWinners(tx, drawId, experienceId, [{ consumerId, expiredAt: expiresAt }], "none");
  // The lock makes a mail the consumer worker queues concurrently visible to this cancel.
  await lockConsumer(tx, consumerId);
  await context.cancelEmail(drawWinnerEmailKey(drawId, consumerId));
  await context.recordAnalytics("prize_expired", { drawId, experienceId, consumerId });
};
