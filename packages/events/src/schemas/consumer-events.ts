import { z } from "zod";
import { email, id, instant } from "./common.ts";

/** Not every sign-in method yields an email; such consumers simply get no mail. */
export const consumerAuthenticatedData = z.looseObject({
  consumerId: id,
  email: email.nullable().optional(),
  method: z.string().max(100).optional(),
  authenticatedAt: instant,
});

export const consumerLinkedData = z.looseObject({
  consumerId: id,
  externalCustomerId: id,
  email: email.nullable().optional(),
  linkedAt: instant,
});
