import type { EventType } from "@fanfare-relay/events/catalogue";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { families, type Family } from "@fanfare-relay/events/families";
import { prng } from "@fanfare-relay/testing/prng";
import { inMinutes, sampleEvent } from "@fanfare-relay/worker/testing/harness";

/** The simulated drop lasts this long, ending now; event instants fall inside it. */
const DROP_SECONDS = 3_600;
const ENTRIES_PER_DRAW = 1_000;
const WINNER_SHARE = 0.05;
const BIDDERS_PER_AUCTION = 50;
/** Events per shopper in the mix below, for the first guess of how many shoppers fit. */
const EVENTS_PER_SHOPPER = 3.2;

export interface DropEventMix {
  /** In delivery order (by the simulated instant each happened), exactly `total` of them. */
  events: Envelope[];
  /** Events per family, e.g. `{ queue: 40123, … }`. */
  perFamily: Record<Family, number>;
  shoppers: number;
}

interface Timed {
  at: number;
  event: Envelope;
}

/**
 * One drop as all five families see it, with a valid lifecycle for every entity and a fresh id
 * per event: an experience starts, pauses, resumes and ends; shoppers sign in (80 % with an
 * email, 20 % also link a shop account), 70 % enter the queue (5 % leave, 40 % are admitted, each
 * admission then completes (3 in 5) or expires), 30 % enter a draw of 1 000 entries (5 % win;
 * 7 in 10 winners claim, the rest expire), 10 % bid in an auction of 50 bidders (two bids each on
 * average, each bid outbidding the previous high bidder; the auction ends and its winner is
 * notified). Events are ordered by when they happened, so families interleave as in a real drop.
 * Deterministic for a given `total` and `seed` (ids aside: those are random UUIDs).
 */
export function dropEventMix(total: number, seed = 1): DropEventMix {
  let shoppers = Math.max(1, Math.ceil(total / EVENTS_PER_SHOPPER));
  let timed = dropTimeline(shoppers, seed);
  // Scale the shoppers to the events asked for: never more, and within 2 % (the rest is topped up).
  for (let attempt = 0; attempt < 10; attempt += 1) {
    if (timed.length <= total && timed.length >= total * 0.98) break;
    if (timed.length > total && shoppers === 1) break;
    const scaled = Math.floor((shoppers * total) / timed.length);
    shoppers = Math.max(1, timed.length > total ? Math.min(scaled, shoppers - 1) : scaled);
    timed = dropTimeline(shoppers, seed);
  }
  timed = timed.slice(0, total);
  // Top up to exactly `total` with account links (valid at any time for any shopper).
  const random = prng(seed + 1);
  const start = Date.now() - DROP_SECONDS * 1000;
  for (let extra = 0; timed.length < total; extra += 1) {
    const shopper = Math.floor(random() * shoppers);
    const at = start + random() * DROP_SECONDS * 1000;
    timed.push({
      at,
      event: sampleEvent("consumer.linked", {
        consumerId: shopperId(shopper),
        externalCustomerId: `shop_cus_extra_${String(extra)}`,
        email: shopperEmail(shopper),
        linkedAt: new Date(at).toISOString(),
      }),
    });
  }
  timed.sort((a, b) => a.at - b.at);
  const events = timed.map(({ event }) => event);
  const perFamily = Object.fromEntries(families.map((family) => [family, 0])) as Record<
    Family,
    number
  >;
  for (const event of events) perFamily[event.type.split(".")[0] as Family] += 1;
  return { events, perFamily, shoppers };
}

const shopperId = (index: number) => `con_drop_${String(index)}`;
const shopperEmail = (index: number) => `shopper${String(index)}@example.test`;

function dropTimeline(shoppers: number, seed: number): Timed[] {
  const random = prng(seed);
  const start = Date.now() - DROP_SECONDS * 1000;
  const atSecond = (second: number) => start + second * 1000;
  const iso = (at: number) => new Date(at).toISOString();
  const experienceId = "exp_drop_bench";
  const timed: Timed[] = [];
  const push = (at: number, type: EventType, data: Record<string, unknown>) => {
    // Consumer facts belong to no experience.
    const envelope = type.startsWith("consumer.") ? {} : { experienceId };
    timed.push({ at, event: sampleEvent(type, data, envelope) });
  };
  const inExperience = (data: Record<string, unknown>) => ({ experienceId, ...data });

  push(atSecond(0), "experience.started", {
    experienceId,
    type: "queue",
    name: "Bench Drop",
    startedAt: iso(atSecond(0)),
  });
  push(atSecond(DROP_SECONDS * 0.5), "experience.paused", {
    experienceId,
    reason: "inventory_recount",
    pausedAt: iso(atSecond(DROP_SECONDS * 0.5)),
  });
  push(atSecond(DROP_SECONDS * 0.5 + 300), "experience.resumed", {
    experienceId,
    pausedDuration: 300,
    resumedAt: iso(atSecond(DROP_SECONDS * 0.5 + 300)),
  });
  push(atSecond(DROP_SECONDS), "experience.ended", {
    experienceId,
    totalParticipants: shoppers,
    endedAt: iso(atSecond(DROP_SECONDS)),
  });

  const drawEntrants: number[] = [];
  const bidders: number[] = [];
  for (let shopper = 0; shopper < shoppers; shopper += 1) {
    const consumerId = shopperId(shopper);
    const arrived = atSecond(random() * DROP_SECONDS * 0.6);
    const email = random() < 0.8 ? shopperEmail(shopper) : null;
    push(arrived, "consumer.authenticated", {
      consumerId,
      email,
      method: email === null ? "sms_otp" : "email_otp",
      authenticatedAt: iso(arrived),
    });
    if (random() < 0.2) {
      push(arrived + 5_000, "consumer.linked", {
        consumerId,
        externalCustomerId: `shop_cus_${String(shopper)}`,
        email,
        linkedAt: iso(arrived + 5_000),
      });
    }
    if (random() < 0.7) {
      const entered = arrived + 10_000;
      push(
        entered,
        "queue.consumer_entered",
        inExperience({
          consumerId,
          distributionId: "dist_drop_bench",
          position: shopper + 1,
          enteredAt: iso(entered),
        }),
      );
      const fate = random();
      if (fate < 0.05) {
        const left = entered + random() * 600_000;
        push(
          left,
          "queue.consumer_left",
          inExperience({
            consumerId,
            distributionId: "dist_drop_bench",
            reason: "user_cancelled",
            leftAt: iso(left),
          }),
        );
      } else if (fate < 0.45) {
        const admitted = entered + random() * DROP_SECONDS * 300;
        push(
          admitted,
          "queue.consumer_admitted",
          inExperience({
            consumerId,
            distributionId: "dist_drop_bench",
            admissionToken: `adm_tok_drop_${String(shopper)}`,
            admittedAt: iso(admitted),
            // In the future, or the handler would rightly send no mail for a closed window.
            expiresAt: inMinutes(30),
            position: shopper + 1,
            waitTimeSeconds: Math.round((admitted - entered) / 1000),
          }),
        );
        const ended = admitted + random() * 600_000;
        const outcome =
          random() < 0.6
            ? {
                type: "queue.admission_completed" as const,
                orderId: `ord_drop_${String(shopper)}`,
                completedAt: iso(ended),
              }
            : { type: "queue.admission_expired" as const, expiredAt: iso(ended) };
        const { type, ...facts } = outcome;
        push(
          ended,
          type,
          inExperience({ consumerId, distributionId: "dist_drop_bench", ...facts }),
        );
      }
    }
    if (random() < 0.3) drawEntrants.push(shopper);
    if (random() < 0.1) bidders.push(shopper);
  }

  // Draws: entries while the drop runs, winners drawn at 80 % of it, then claims or expiries.
  for (let draw = 0; draw * ENTRIES_PER_DRAW < drawEntrants.length; draw += 1) {
    const drawId = `draw_drop_${String(draw)}`;
    const entrants = drawEntrants.slice(draw * ENTRIES_PER_DRAW, (draw + 1) * ENTRIES_PER_DRAW);
    entrants.forEach((shopper, index) => {
      const at = atSecond(random() * DROP_SECONDS * 0.75);
      push(
        at,
        "draw.entry_created",
        inExperience({
          drawId,
          consumerId: shopperId(shopper),
          entryNumber: index + 1,
          createdAt: iso(at),
        }),
      );
    });
    const selected = atSecond(DROP_SECONDS * 0.8 + draw);
    const claimDeadline = new Date(Date.now() + 86_400_000).toISOString();
    const winners = entrants
      .filter((_, index) => index % Math.round(1 / WINNER_SHARE) === 0)
      .map((shopper, index) => ({
        consumerId: shopperId(shopper),
        position: index + 1,
        claimToken: `clm_tok_${drawId}_${String(index)}`,
        claimDeadline,
      }));
    push(
      selected,
      "draw.winners_selected",
      inExperience({
        drawId,
        totalEntries: entrants.length,
        selectionMethod: "random",
        winners,
      }),
    );
    for (const winner of winners) {
      const at = selected + 60_000 + random() * DROP_SECONDS * 150;
      const { consumerId, claimToken } = winner;
      if (random() < 0.7) {
        push(
          at,
          "draw.prize_claimed",
          inExperience({
            drawId,
            consumerId,
            claimToken,
            orderId: `ord_${claimToken}`,
            claimedAt: iso(at),
          }),
        );
      } else {
        push(
          at,
          "draw.prize_expired",
          inExperience({ drawId, consumerId, claimToken, expiresAt: iso(at) }),
        );
      }
    }
  }

  // Auctions: two bids per bidder on average, each one outbidding the previous high bidder.
  for (let auction = 0; auction * BIDDERS_PER_AUCTION < bidders.length; auction += 1) {
    const auctionId = `auc_drop_${String(auction)}`;
    const field = bidders.slice(auction * BIDDERS_PER_AUCTION, (auction + 1) * BIDDERS_PER_AUCTION);
    let high: { shopper: number; amount: number } | undefined;
    const bids = field.length * 2;
    for (let bid = 0; bid < bids; bid += 1) {
      const at = atSecond(DROP_SECONDS * (0.1 + (0.65 * bid) / bids));
      let shopper = field[Math.floor(random() * field.length)] ?? 0;
      if (shopper === high?.shopper && field.length > 1) {
        shopper = field[(field.indexOf(shopper) + 1) % field.length] ?? shopper;
      }
      const amount = (high?.amount ?? 10_000) + 500;
      push(
        at,
        "auction.bid_placed",
        inExperience({
          auctionId,
          consumerId: shopperId(shopper),
          bidId: `bid_${auctionId}_${String(bid)}`,
          amount,
          currency: "USD",
          placedAt: iso(at),
        }),
      );
      if (high !== undefined && high.shopper !== shopper) {
        push(
          at + 1_000,
          "auction.outbid",
          inExperience({
            auctionId,
            consumerId: shopperId(high.shopper),
            newHighBid: amount,
            currency: "USD",
            outbidAt: iso(at + 1_000),
          }),
        );
      }
      high = { shopper, amount };
    }
    if (high === undefined) continue;
    const ended = atSecond(DROP_SECONDS * 0.8 + auction);
    push(
      ended,
      "auction.auction_ended",
      inExperience({
        auctionId,
        winnerId: shopperId(high.shopper),
        finalBid: high.amount,
        currency: "USD",
        endedAt: iso(ended),
      }),
    );
    push(
      ended + 10_000,
      "auction.winner_notified",
      inExperience({
        auctionId,
        consumerId: shopperId(high.shopper),
        notifiedAt: iso(ended + 10_000),
      }),
    );
  }
  return timed.sort((a, b) => a.at - b.at);
}
