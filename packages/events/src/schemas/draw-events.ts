import { z } from "zod";
import { count, id, instant } from "./common.ts";

const drawSubject = { drawId: id, experienceId: id };

export const entryCreatedData = z.looseObject({
  ...drawSubject,
  consumerId: id,
  entryNumber: count,
  createdAt: instant,
});

export const winnersSelectedData = z.looseObject({
  ...drawSubject,
  totalEntries: count,
  selectionMethod: z.string().min(1).max(255).optional(),
  winners: z.array(
    z.looseObject({
      consumerId: id,
      position: count,
      claimToken: id,
      claimDeadline: instant,
    }),
  ),
});

export const prizeClaimedData = z.looseObject({
  ...drawSubject,
  consumerId: id,
  claimToken: id.optional(),
  orderId: id.optional(),
  claimedAt: instant,
});

export const prizeExpiredData = z.looseObject({
  ...drawSubject,
  consumerId: id,
  claimToken: id.optional(),
  expiresAt: instant,
});
