import { z } from "zod";
import { count, id, instant } from "./common.ts";

const queueSubject = {
  consumerId: id,
  experienceId: id,
  distributionId: id.optional(),
};

export const consumerEnteredData = z.looseObject({
  ...queueSubject,
  position: count,
  enteredAt: instant,
});

export const consumerAdmittedData = z.looseObject({
  ...queueSubject,
  admissionToken: id,
  admittedAt: instant,
  expiresAt: instant,
  position: count.optional(),
  waitTimeSeconds: count.optional(),
});

export const consumerLeftData = z.looseObject({
  ...queueSubject,
  reason: z.string().min(1).max(255).optional(),
  leftAt: instant,
});

export const admissionCompletedData = z.looseObject({
  ...queueSubject,
  orderId: id.optional(),
  completedAt: instant,
});

export const admissionExpiredData = z.looseObject({
  ...queueSubject,
  expiredAt: instant,
});
