import type { EventHandler } from "@fanfare-relay/worker/handler";
import { lockConsumer } from "@fanfare-relay/worker/consumer-email";
import { drawWinnerEmailKey } from "@fanfare-relay/emails/draw-winner";
import { mergeWinners } from "../draw-winners.ts";

export const prizeClaimed: EventHandler<"draw.prize_claimed"> = async (context) => {
  const { tx, event } = context;
  const { drawId, experienceId, consumerId, claimToken, orderId, claimedAt } = event.data;
  // Before the selection (reordered delivery) this creates the row; the selection fills the rest.
  await mergeWinners(
    tx,
    drawId,
    experienceId,
    [{ consumerId, claimToken, orderId, claimedAt }],
    "claim",
  );
  // A "you won" mail still waiting (SMTP outage) would now be stale. The lock makes a mail the
  // consumer worker queues concurrently (their email just arrived) visible to this cancel.
  await lockConsumer(tx, consumerId);
  await context.cancelEmail(drawWinnerEmailKey(drawId, consumerId));
  await context.recordAnalytics("prize_claimed", {
    drawId,
    experienceId,
    consumerId,
    orderId: orderId ?? null,
  });
};
