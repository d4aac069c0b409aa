import { z } from "zod";
import { count, id, instant } from "./common.ts";

export const experienceStartedData = z.looseObject({
  experienceId: id,
  type: z.string().min(1).max(100),
  name: z.string().max(500).optional(),
  startedAt: instant,
});

export const experienceEndedData = z.looseObject({
  experienceId: id,
  totalParticipants: count.optional(),
  endedAt: instant,
});

export const experiencePausedData = z.looseObject({
  experienceId: id,
  reason: z.string().max(500).optional(),
  pausedAt: instant,
});

export const experienceResumedData = z.looseObject({
  experienceId: id,
  /** Seconds the experience spent paused. */
  pausedDuration: count.optional(),
  resumedAt: instant,
});
