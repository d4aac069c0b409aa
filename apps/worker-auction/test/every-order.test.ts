import type { Envelope } from "@fanfare-relay/events/envelope";
import { permutations } from "@fanfare-relay/testing/permutations";
import { consumerHandlers } from "@fanfare-relay/worker-consumer/handlers";
import { createMailer, type Mailer } from "@fanfare-relay/worker/mailer";
import { createWorkerHarness, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { holdBeforeCommit, transactionRendezvous } from "@fanfare-relay/worker/testing/rendezvous";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auctionHandlers } from "../src/handlers.ts";
import {
  apply as sharedApply,
  auctionLifecycle,
  endedAuction,
  mailsAbout as sharedMailsAbout,
  send as sharedSend,
  type AuctionStep,
} from "./auction-orders.ts";

let h: WorkerHarness;
let mailer: Mailer;
beforeAll(async () => {
  h = await createWorkerHarness(
    "auction",
    auctionHandlers,
    {},
    { alongside: [{ family: "consumer", handlers: consumerHandlers }] },
  );
  mailer = createMailer({ smtpUrl: h.smtp.url, from: "Shop <no-reply@shop.test>" });
  // The loser's email is known from the start: outbid mails are only ever sent by the outbid
  // event itself, never after the fact.
  await h.db
    .insertInto("consumers")
    .values({ id: "con_lost", email: "lost@example.com" })
    .execute();
});
afterAll(async () => {
  mailer.close();
  await h.close();
});

const apply = (event: Envelope, handlers?: Parameters<typeof sharedApply>[2]) =>
  sharedApply(h, event, handlers);
const send = (event: Envelope) => sharedSend(h, mailer, event);
const lifecycle = (auctionId: string, winnerId: string, winnerEmail: string) =>
  auctionLifecycle(auctionId, { experienceId: "exp_order", winnerId, winnerEmail });
const mailsAbout = (auctionId: string) => sharedMailsAbout(h, auctionId);

describe("guarantee: an auction ends the same, and mails right, in every order", () => {
  it("120 orders of two bids, outbid, end and the winner's sign-in (winner notified slotted in) → the same auction row; the auction-won mail exactly once in every order; outbid mail only before the end", async () => {
    const orders = permutations([
      "bidLost",
      "bidWon",
      "outbid",
      "ended",
      "authenticated",
    ] as const).map((order, index): AuctionStep[] => {
      const at = index % (order.length + 1);
      return [...order.slice(0, at), "notified", ...order.slice(at)];
    });
    expect(new Set(orders.map((order) => order.join())).size).toBe(120);

    const limit = pLimit(8);
    const finals = await Promise.all(
      orders.map((order, index) =>
        limit(async () => {
          // Fixed width: no auction id is a prefix of another.
          const auctionId = `auc_order_${String(index).padStart(3, "0")}`;
          const winnerId = `con_won_${String(index).padStart(3, "0")}`;
          const winnerEmail = `${winnerId}@example.com`;
          const events = lifecycle(auctionId, winnerId, winnerEmail);
          for (const step of order) {
            expect(await apply(events[step])).toBe("applied");
            await send(events[step]);
          }
          const { auction_id: _id, ...auction } = await h.db
            .selectFrom("auctions")
            .selectAll()
            .where("auction_id", "=", auctionId)
            .executeTakeFirstOrThrow();
          return { order, auctionId, winnerId, winnerEmail, auction, mails: mailsAbout(auctionId) };
        }),
      ),
    );

    for (const { order, winnerId, winnerEmail, auction, mails } of finals) {
      const label = order.join(" → ");
      expect(auction, label).toEqual(
        endedAuction({ experienceId: "exp_order", winnerId, winnerEmail }),
      );
      const won = `${winnerEmail}: You won the auction!`;
      const outbid = "lost@example.com: You've been outbid";
      expect(mails, label).toEqual(
        order.indexOf("outbid") < order.indexOf("ended") ? [won, outbid] : [won],
      );
    }
    // Both paths sent it: the end when the email was known, the sign-in when it came after.
    const signInLast = finals.filter(
      ({ order }) => order.indexOf("authenticated") > order.indexOf("ended"),
    );
    expect(signInLast.length).toBe(60);
    const pending = await h.db
      .selectFrom("email_outbox")
      .select("email_key")
      .where("status", "=", "pending")
      .execute();
    expect(pending).toEqual([]);
    // 720 transactions and their sends.
  }, 60_000);
});

describe("fault: the winner's sign-in and the auction's end applied at the same moment by two workers", () => {
  it("10 pairs of concurrent transactions (sign-in ∥ auction ended), each holding its commit until both did their reads → exactly 1 auction-won mail", async () => {
    for (let index = 0; index < 10; index++) {
      const auctionId = `auc_race_${String(index).padStart(3, "0")}`;
      const winnerId = `con_race_${String(index)}`;
      const winnerEmail = `${winnerId}@example.com`;
      const events = lifecycle(auctionId, winnerId, winnerEmail);
      const { arrive } = transactionRendezvous(h.db, 2);
      const held = {
        auction: holdBeforeCommit(auctionHandlers, arrive),
        consumer: holdBeforeCommit(consumerHandlers, arrive),
      };
      await Promise.all([apply(events.authenticated, held), apply(events.ended, held)]);
      await send(events.authenticated);
      await send(events.ended);
      expect(mailsAbout(auctionId), auctionId).toEqual([`${winnerEmail}: You won the auction!`]);
    }
  });
});
