import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { drawWinnerEmailKey } from "@fanfare-relay/emails/draw-winner";
import { mergeWinners } from "../draw-winners.ts";

export const prizeClaimed: BatchHandler<"draw.prize_claimed"> = {
  async applyBatch({ tx, events, cancelEmails, recordAnalytics }) {
    // Before the selection (reordered delivery) this creates the row; the selection fills the rest.
    await mergeWinners(
      tx,
      events.map(({ data }) => ({
        drawId: data.drawId,
        experienceId: data.experienceId,
        consumerId: data.consumerId,
        claimToken: data.claimToken,
        orderId: data.orderId,
        claimedAt: data.claimedAt,
      })),
      "claim",
    );
    // A "you won" mail still waiting (SMTP outage) would now be stale. The batch holds the
    // consumers' locks, which makes a mail the consumer worker queues concurrently (their email
    // just arrived) visible to this cancel.
    await cancelEmails(events.map(({ data }) => drawWinnerEmailKey(data.drawId, data.consumerId)));
    for (const event of events) {
      const { drawId, experienceId, consumerId, orderId } = event.data;
      recordAnalytics(event, "prize_claimed", {
        drawId,
        experienceId,
        consumerId,
        orderId: orderId ?? null,
      });
    }
  },
};
