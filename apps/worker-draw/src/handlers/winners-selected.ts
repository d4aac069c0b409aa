import type { EventHandler } from "@fanfare-relay/worker/handler";
import { findConsumerEmails, lockConsumers } from "@fanfare-relay/worker/consumer-email";
import { drawWinnerEmail, drawWinnerEmailKey } from "@fanfare-relay/emails/draw-winner";
import { mergeWinners } from "../draw-winners.ts";

interface Winner {
  consumerId: string;
  position: number;
  claimToken: string;
  claimDeadline: string;
}

/** One winner per consumer (best position): a repeated consumer would hit its row twice. */
function uniqueWinners(winners: readonly Winner[]): Winner[] {
  const byConsumer = new Map<string, Winner>();
  for (const winner of winners) {
    const seen = byConsumer.get(winner.consumerId);
    if (seen === undefined || winner.position < seen.position) {
      byConsumer.set(winner.consumerId, winner);
    }
  }
  return [...byConsumer.values()];
}

export const winnersSelected: EventHandler<"draw.winners_selected"> = async (context) => {
  const { tx, event, links } = context;
  const { drawId, experienceId, totalEntries } = event.data;
  const winners = uniqueWinners(event.data.winners);
  const states = await mergeWinners(tx, drawId, experienceId, winners, "selection");
  await context.recordAnalytics("draw_completed", {
    drawId,
    winnerCount: winners.length,
    totalEntries,
  });

  // All winners' locks up front, in one order (findConsumerEmail would take them one by one in
  // the event's order, and two selections sharing winners could deadlock).
  await lockConsumers(
    tx,
    winners.map((winner) => winner.consumerId),
  );
  const statusOf = new Map(states.map((state) => [state.consumer_id, state.status]));
  const now = Date.now();
  // No mail for a prize already claimed or expired (reported before the selection), nor for a
  // deadline already past (a late retry): the claim link would no longer work.
  const mailable = winners.filter(
    (winner) =>
      statusOf.get(winner.consumerId) === "pending_claim" &&
      new Date(winner.claimDeadline).getTime() > now,
  );
  const emails = await findConsumerEmails(
    tx,
    mailable.map((winner) => winner.consumerId),
  );
  for (const winner of mailable) {
    const to = emails.get(winner.consumerId);
    if (to === undefined) continue;
    await context.queueEmail(
      drawWinnerEmail({
        key: drawWinnerEmailKey(drawId, winner.consumerId),
        to,
        shopUrl: links.shopUrl,
        drawId,
        claimToken: winner.claimToken,
        claimDeadline: winner.claimDeadline,
      }),
    );
  }
};
