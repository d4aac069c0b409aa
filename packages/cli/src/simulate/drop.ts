import type { EventData, EventType } from "@fanfare-relay/events/catalogue";
import type { Envelope } from "@fanfare-relay/events/envelope";
import { createRandom } from "./random.ts";

export interface DropOptions {
  consumers: number;
  seed: number;
  /** Unique per run, so that a drop never collides with an earlier one in the same database. */
  runId: string;
  now?: Date;
}

/** What the drop must leave behind, counted over this drop's own rows. */
export interface DropExpectations {
  events: number;
  consumers: number;
  experiences: number;
  queueParticipants: number;
  admissions: number;
  admissionsCompleted: number;
  admissionsExpired: number;
  drawEntries: number;
  drawWinners: number;
  prizesClaimed: number;
  prizesExpired: number;
  auctions: number;
  auctionBids: number;
  /** Every handler records exactly one analytics row per event. */
  analyticsEvents: number;
  /**
   * The logical emails the drop can cause, per template. Fewer may be sent (a mail is skipped or
   * cancelled when its admission ended first, or when the consumer's email arrives after it);
   * more would be a doubled effect.
   */
  maxEmails: Record<string, number>;
}

export interface Drop {
  runId: string;
  seed: number;
  organizationId: string;
  experienceId: string;
  drawId: string;
  auctionId: string;
  /** Every event id of this drop starts with it. */
  eventIdPrefix: string;
  /** Every consumer id of this drop starts with it. */
  consumerIdPrefix: string;
  /** In the order the facts happened. */
  events: Envelope[];
  expected: DropExpectations;
}

const SECOND = 1000;
const ADMISSION_WINDOW_MS = 10 * 60 * SECOND;
const CLAIM_WINDOW_MS = 24 * 60 * 60 * SECOND;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A coherent drop for one experience: sign-ins, a queue with admissions that complete or expire, a
 * draw, an auction and the experience's lifecycle. Facts play out on a clock that starts now and
 * advances a second per fact; an expiry happens at its deadline (10 minutes or a day later), so
 * the mails that precede it are not stale when the workers see them.
 */
export function generateDrop({
  consumers: count,
  seed,
  runId,
  now = new Date(),
}: DropOptions): Drop {
  if (!Number.isInteger(count) || count < 1) throw new Error("a drop needs at least one consumer");
  const random = createRandom(seed);
  const organizationId = "org_sim";
  const experienceId = `exp_sim_${runId}`;
  const drawId = `draw_sim_${runId}`;
  const auctionId = `auc_sim_${runId}`;
  const eventIdPrefix = `evt_sim_${runId}_`;
  const consumerIdPrefix = `con_sim_${runId}_`;
  const width = String(count).length;
  const consumers = Array.from(
    { length: count },
    (_, index) => `${consumerIdPrefix}${String(index + 1).padStart(width, "0")}`,
  );

  const facts: { at: number; envelope: Envelope }[] = [];
  let clock = Math.floor(now.getTime() / SECOND) * SECOND;
  const tick = (seconds = 1) => (clock += seconds * SECOND);
  const add = <T extends EventType>(type: T, at: number, data: EventData<T>) => {
    const id = `${eventIdPrefix}${String(facts.length + 1).padStart(5, "0")}`;
    const scoped = type.startsWith("consumer.") ? {} : { experienceId };
    const envelope = {
      id,
      type,
      created: Math.floor(at / SECOND),
      organizationId,
      ...scoped,
      data,
    };
    facts.push({ at, envelope });
  };

  for (const consumerId of consumers) {
    add("consumer.authenticated", tick(), {
      consumerId,
      email: `${consumerId}@example.com`,
      method: random.pick(["email_otp", "magic_link", "passkey"]),
      authenticatedAt: iso(clock),
    });
  }
  add("experience.started", tick(), {
    experienceId,
    type: "queue",
    name: `Simulated drop ${runId}`,
    startedAt: iso(clock),
  });

  // The queue: everyone enters; the experience pauses once while people are still arriving.
  const distributionId = `dist_sim_${runId}`;
  const queueOrder = random.shuffle(consumers);
  const enteredAt = new Map<string, number>();
  for (const [index, consumerId] of queueOrder.entries()) {
    if (index === Math.floor(count / 2)) {
      const pausedFor = random.int(30, 120);
      add("experience.paused", tick(), {
        experienceId,
        reason: "inventory_recount",
        pausedAt: iso(clock),
      });
      add("experience.resumed", tick(pausedFor), {
        experienceId,
        pausedDuration: pausedFor,
        resumedAt: iso(clock),
      });
    }
    enteredAt.set(consumerId, tick());
    add("queue.consumer_entered", clock, {
      consumerId,
      experienceId,
      distributionId,
      position: index + 1,
      enteredAt: iso(clock),
    });
  }

  // Admissions in queue order; each ends completed (an order) or expired (at its deadline).
  const admitted = queueOrder.filter((_, index) => index === 0 || random.chance(0.6));
  let completed = 0;
  for (const [index, consumerId] of admitted.entries()) {
    const admittedAt = tick();
    const expiresAt = admittedAt + ADMISSION_WINDOW_MS;
    add("queue.consumer_admitted", admittedAt, {
      consumerId,
      experienceId,
      distributionId,
      admissionToken: `adm_${runId}_${index + 1}`,
      admittedAt: iso(admittedAt),
      expiresAt: iso(expiresAt),
      position: queueOrder.indexOf(consumerId) + 1,
      waitTimeSeconds: Math.round(
        (admittedAt - (enteredAt.get(consumerId) ?? admittedAt)) / SECOND,
      ),
    });
    if (random.chance(0.6)) {
      completed += 1;
      const completedAt = admittedAt + random.int(20, 300) * SECOND;
      add("queue.admission_completed", completedAt, {
        consumerId,
        experienceId,
        distributionId,
        orderId: `ord_${runId}_${index + 1}`,
        completedAt: iso(completedAt),
      });
    } else {
      add("queue.admission_expired", expiresAt, {
        consumerId,
        experienceId,
        distributionId,
        expiredAt: iso(expiresAt),
      });
    }
  }
  for (const consumerId of queueOrder.filter((id) => !admitted.includes(id))) {
    if (!random.chance(0.3)) continue;
    add("queue.consumer_left", tick(), {
      consumerId,
      experienceId,
      distributionId,
      reason: random.pick(["user_cancelled", "timeout"]),
      leftAt: iso(clock),
    });
  }

  // The draw: some enter, up to three win, each winner claims or lets the deadline pass.
  const drawn = consumers.filter(() => random.chance(0.5));
  const entrants = drawn.length > 0 ? drawn : [random.pick(consumers)];
  for (const [index, consumerId] of entrants.entries()) {
    add("draw.entry_created", tick(), {
      drawId,
      experienceId,
      consumerId,
      entryNumber: index + 1,
      createdAt: iso(clock),
    });
  }
  const winners = random.shuffle(entrants).slice(0, 3);
  const claimDeadline = tick() + CLAIM_WINDOW_MS;
  add("draw.winners_selected", clock, {
    drawId,
    experienceId,
    totalEntries: entrants.length,
    selectionMethod: "random",
    winners: winners.map((consumerId, index) => ({
      consumerId,
      position: index + 1,
      claimToken: `clm_${runId}_${index + 1}`,
      claimDeadline: iso(claimDeadline),
    })),
  });
  let claimed = 0;
  for (const [index, consumerId] of winners.entries()) {
    const claimToken = `clm_${runId}_${index + 1}`;
    if (random.chance(0.5)) {
      claimed += 1;
      const claimedAt = clock + random.int(30, 600) * SECOND;
      add("draw.prize_claimed", claimedAt, {
        drawId,
        experienceId,
        consumerId,
        claimToken,
        orderId: `ord_${runId}_draw_${index + 1}`,
        claimedAt: iso(claimedAt),
      });
    } else {
      add("draw.prize_expired", claimDeadline, {
        drawId,
        experienceId,
        consumerId,
        claimToken,
        expiresAt: iso(claimDeadline),
      });
    }
  }

  // The auction: each bidder bids once, higher than the last, and the one before is outbid.
  const bidders = random.shuffle(consumers).slice(0, 5);
  const amountOf = (index: number) => 10_000 + index * 2_500;
  for (const [index, consumerId] of bidders.entries()) {
    add("auction.bid_placed", tick(), {
      auctionId,
      experienceId,
      consumerId,
      bidId: `bid_${runId}_${index + 1}`,
      amount: amountOf(index),
      currency: "USD",
      placedAt: iso(clock),
    });
    const previous = bidders[index - 1];
    if (previous === undefined) continue;
    add("auction.outbid", tick(), {
      auctionId,
      experienceId,
      consumerId: previous,
      newHighBid: amountOf(index),
      currency: "USD",
      outbidAt: iso(clock),
    });
  }
  const winnerId = bidders[bidders.length - 1];
  add("auction.auction_ended", tick(), {
    auctionId,
    experienceId,
    winnerId: winnerId ?? null,
    finalBid: winnerId === undefined ? null : amountOf(bidders.length - 1),
    currency: "USD",
    endedAt: iso(clock),
  });
  if (winnerId !== undefined) {
    add("auction.winner_notified", tick(10), {
      auctionId,
      experienceId,
      consumerId: winnerId,
      notifiedAt: iso(clock),
    });
  }
  add("experience.ended", tick(), {
    experienceId,
    totalParticipants: count,
    endedAt: iso(clock),
  });

  // Stable: facts at the same instant keep the order they were generated in.
  const events = facts.sort((a, b) => a.at - b.at).map((fact) => fact.envelope);
  return {
    runId,
    seed,
    organizationId,
    experienceId,
    drawId,
    auctionId,
    eventIdPrefix,
    consumerIdPrefix,
    events,
    expected: {
      events: events.length,
      consumers: count,
      experiences: 1,
      queueParticipants: count,
      admissions: admitted.length,
      admissionsCompleted: completed,
      admissionsExpired: admitted.length - completed,
      drawEntries: entrants.length,
      drawWinners: winners.length,
      prizesClaimed: claimed,
      prizesExpired: winners.length - claimed,
      auctions: 1,
      auctionBids: bidders.length,
      analyticsEvents: events.length,
      maxEmails: {
        "admission-granted": admitted.length,
        "draw-winner": winners.length,
        outbid: Math.max(0, bidders.length - 1),
        "auction-won": winnerId === undefined ? 0 : 1,
      },
    },
  };
}
