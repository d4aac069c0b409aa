import type { Envelope } from "@fanfare-relay/events/envelope";
import { consumerHandlers } from "@fanfare-relay/worker-consumer/handlers";
import { deliverEventEmails } from "@fanfare-relay/worker/email-outbox";
import type { HandlerMap } from "@fanfare-relay/worker/handler";
import type { Mailer } from "@fanfare-relay/worker/mailer";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import { sampleEvent, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { expect } from "vitest";
import { auctionHandlers } from "../src/handlers.ts";

/** Helpers of the tests that play an auction's events, and the winner's sign-in, in any order. */

export type AuctionStep = "bidLost" | "bidWon" | "outbid" | "ended" | "notified" | "authenticated";

export interface AuctionCast {
  experienceId: string;
  winnerId: string;
  /** The email the winner's sign-in carries. */
  winnerEmail: string;
}

/** Con_lost bids 250.00, the winner 275.00 and wins; the winner's email comes by sign-in. */
export function auctionLifecycle(
  auctionId: string,
  { experienceId, winnerId, winnerEmail }: AuctionCast,
): Record<AuctionStep, Envelope> {
  const subject = { auctionId, experienceId };
  return {
    bidLost: sampleEvent("auction.bid_placed", {
      ...subject,
      consumerId: "con_lost",
      bidId: `${auctionId}_bid_lost`,
      amount: 25000,
      currency: "USD",
      placedAt: "2025-11-26T10:30:00.000Z",
    }),
    bidWon: sampleEvent("auction.bid_placed", {
      ...subject,
      consumerId: winnerId,
      bidId: `${auctionId}_bid_won`,
      amount: 27500,
      currency: "USD",
      placedAt: "2025-11-26T10:31:00.000Z",
    }),
    outbid: sampleEvent("auction.outbid", {
      ...subject,
      consumerId: "con_lost",
      newHighBid: 27500,
      currency: "USD",
      outbidAt: "2025-11-26T10:31:00.000Z",
    }),
    ended: sampleEvent("auction.auction_ended", {
      ...subject,
      winnerId,
      finalBid: 27500,
      currency: "USD",
      endedAt: "2025-11-26T10:40:00.000Z",
    }),
    notified: sampleEvent("auction.winner_notified", {
      ...subject,
      consumerId: winnerId,
      notifiedAt: "2025-11-26T10:40:10.000Z",
    }),
    authenticated: sampleEvent("consumer.authenticated", {
      consumerId: winnerId,
      email: winnerEmail,
      authenticatedAt: "2025-11-26T09:40:05.000Z",
    }),
  };
}

/** The auction row as every order must end it. */
export const endedAuction = ({ experienceId, winnerId }: AuctionCast) => ({
  experience_id: experienceId,
  status: "ended",
  currency: "USD",
  high_bid: 27500,
  high_bidder_id: winnerId,
  winner_id: winnerId,
  final_bid: 27500,
  ended_at: new Date("2025-11-26T10:40:00.000Z"),
  winner_notified_at: new Date("2025-11-26T10:40:10.000Z"),
});

/** What the worker does per job, without the queue: apply in one transaction (then `send`). */
export async function apply(
  h: WorkerHarness,
  event: Envelope,
  handlers?: { auction?: HandlerMap<"auction">; consumer?: HandlerMap<"consumer"> },
) {
  const options = { db: h.db, messageIdDomain: "shop.test", shopUrl: "https://shop.test" };
  return event.type.startsWith("consumer.")
    ? await processEvent(
        { ...options, family: "consumer", handlers: handlers?.consumer ?? consumerHandlers },
        parseFamilyEvent("consumer", event),
      )
    : await processEvent(
        { ...options, family: "auction", handlers: handlers?.auction ?? auctionHandlers },
        parseFamilyEvent("auction", event),
      );
}

/** Sends what the event queued, as the worker does after its commit. */
export async function send(h: WorkerHarness, mailer: Mailer, event: Envelope) {
  const report = await deliverEventEmails(h.db, mailer, event.id);
  expect(report.failed).toEqual([]);
}

/** `to: subject` of each mail the SMTP server received about this auction, sorted. */
export const mailsAbout = (h: WorkerHarness, auctionId: string) =>
  h.smtp.mails
    .filter((mail) => mail.text?.includes(`/auctions/${auctionId}`))
    .map((mail) => `${mail.to.join(",")}: ${mail.subject ?? ""}`)
    .sort();
