import type { BatchHandler, QueuedEmail } from "@fanfare-relay/worker/handler";
import { readConsumerEmails } from "@fanfare-relay/worker/consumer-email";
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

export const winnersSelected: BatchHandler<"draw.winners_selected"> = {
  async applyBatch({ tx, events, links, queueEmails, recordAnalytics }) {
    // Every selection's winners, flattened in event-time order: a winner two selections of one
    // draw name is merged twice, in that order (mergeWinners' rounds), as one at a time would.
    const winnersOf = events.map((event) => uniqueWinners(event.data.winners));
    const items = events.flatMap((event, index) =>
      (winnersOf[index] ?? []).map((winner) => ({ event, winner })),
    );
    const statuses = await mergeWinners(
      tx,
      items.map(({ event, winner }) => ({
        ...winner,
        drawId: event.data.drawId,
        experienceId: event.data.experienceId,
      })),
      "selection",
    );
    for (const [index, event] of events.entries()) {
      const { drawId, totalEntries } = event.data;
      recordAnalytics(event, "draw_completed", {
        drawId,
        winnerCount: winnersOf[index]?.length ?? 0,
        totalEntries,
      });
    }

    // No mail for a prize already claimed or expired (reported before the selection), nor for a
    // deadline already past (a late retry): the claim link would no longer work. The status is
    // the one right after that winner's own merge, as one event at a time would read it.
    const now = Date.now();
    const mailable = items.filter(
      ({ winner }, index) =>
        statuses[index] === "pending_claim" && new Date(winner.claimDeadline).getTime() > now,
    );
    if (mailable.length === 0) return;
    // The batch already holds every winner's lock (taken in one sorted statement before any row
    // was touched), so this read sees any email a consumer event committed concurrently.
    const emails = await readConsumerEmails(
      tx,
      mailable.map(({ winner }) => winner.consumerId),
    );
    // One draft per key, the first selection's: a key already queued keeps its first mail, so
    // one at a time a second selection of the same winner queues nothing.
    const drafts = new Map<string, QueuedEmail<"draw.winners_selected">>();
    for (const { event, winner } of mailable) {
      const to = emails.get(winner.consumerId);
      const key = drawWinnerEmailKey(event.data.drawId, winner.consumerId);
      if (to === undefined || drafts.has(key)) continue;
      drafts.set(key, {
        event,
        draft: drawWinnerEmail({
          key,
          to,
          shopUrl: links.shopUrl,
          drawId: event.data.drawId,
          claimToken: winner.claimToken,
          claimDeadline: winner.claimDeadline,
        }),
      });
    }
    await queueEmails([...drafts.values()]);
  },
};
