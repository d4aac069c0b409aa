import type { WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { sampleEvent } from "@fanfare-relay/worker/testing/harness";
import type { Envelope } from "@fanfare-relay/events/envelope";
import type { ProcessEventOptions } from "@fanfare-relay/worker/process-event";
import { drawHandlers } from "../src/handlers.ts";

export const experienceId = "exp_draw_test";

export async function knownConsumer(h: WorkerHarness, id: string, email: string) {
  await h.db.insertInto("consumers").values({ id, email }).execute();
}

export function processOptions(h: WorkerHarness): ProcessEventOptions<"draw"> {
  return {
    db: h.db,
    family: "draw",
    handlers: drawHandlers,
    messageIdDomain: "shop.test",
    shopUrl: "https://shop.test",
  };
}

export const mailsTo = (h: WorkerHarness, address: string) =>
  h.smtp.mails.filter((mail) => mail.to.includes(address));

export interface WinnerInput {
  consumerId: string;
  position: number;
  claimToken: string;
  claimDeadline: string;
}

export function winnersSelected(drawId: string, winners: WinnerInput[], totalEntries = 100) {
  return sampleEvent("draw.winners_selected", { drawId, experienceId, totalEntries, winners });
}

export function prizeClaimed(
  drawId: string,
  consumerId: string,
  data: { claimToken: string; orderId: string; claimedAt: string },
) {
  return sampleEvent("draw.prize_claimed", { drawId, experienceId, consumerId, ...data });
}

export function prizeExpired(drawId: string, consumerId: string, expiresAt: string) {
  return sampleEvent("draw.prize_expired", { drawId, experienceId, consumerId, expiresAt });
}

export function entryCreated(
  drawId: string,
  consumerId: string,
  entryNumber: number,
  createdAt: string,
): Envelope {
  return sampleEvent("draw.entry_created", {
    drawId,
    experienceId,
    consumerId,
    entryNumber,
    createdAt,
  });
}

export async function analyticsOf(h: WorkerHarness, eventId: string) {
  return h.db
    .selectFrom("analytics_events")
    .select(["name", "properties"])
    .where("event_id", "=", eventId)
    .execute();
}
