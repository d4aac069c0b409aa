import { z } from "zod";

export const id = z.string().min(1).max(255);
/** ISO-8601 instant as the sender writes it (`2025-11-26T09:42:20.000Z`); offsets are accepted too. */
export const instant = z.iso.datetime({ offset: true });
export const count = z.number().int().nonnegative();
/** Money is always an integer amount of the currency's minor unit (cents). */
export const minorUnits = z.number().int().nonnegative();
export const currency = z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 code such as USD");
export const email = z.email();
