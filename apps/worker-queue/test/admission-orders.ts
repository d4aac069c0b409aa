import type { Envelope } from "@fanfare-relay/events/envelope";
import { sampleEvent, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { expect } from "vitest";

/** Helpers of the tests that play an admission's events, and the consumer's sign-in, in every order. */

export type AdmissionStep = "admitted" | "completed" | "expired" | "authenticated";

export const YOURE_IN = "You're in! Complete your purchase";

/** The subjects of the mails the harness's SMTP server received for this address. */
export const mailsTo = (h: WorkerHarness, address: string) =>
  h.smtp.mails.filter((mail) => mail.to.includes(address)).map((mail) => mail.subject);

export const authenticated = (consumerId: string, email: string) =>
  sampleEvent("consumer.authenticated", {
    consumerId,
    email,
    authenticatedAt: "2025-11-26T09:40:05.000Z",
  });

/** One admission's lifecycle and the consumer's sign-in; the same instants for every order. */
export function admissionLifecycle(
  subject: { consumerId: string; experienceId: string },
  {
    token,
    admittedAt,
    expiresAt,
    email,
  }: {
    token: string;
    admittedAt: string;
    expiresAt: string;
    email: string;
  },
): Record<AdmissionStep, Envelope> {
  return {
    admitted: sampleEvent("queue.consumer_admitted", {
      ...subject,
      admissionToken: token,
      admittedAt,
      expiresAt,
    }),
    completed: sampleEvent("queue.admission_completed", { ...subject, orderId: "ord_1" }),
    expired: sampleEvent("queue.admission_expired", subject),
    authenticated: authenticated(subject.consumerId, email),
  };
}

/** The consumer's admission row without the consumer id, to compare consumers with each other. */
export async function admissionOf(h: WorkerHarness, consumerId: string) {
  const { consumer_id: _consumer, ...rest } = await h.db
    .selectFrom("admissions")
    .selectAll()
    .where("consumer_id", "=", consumerId)
    .executeTakeFirstOrThrow();
  return rest;
}

/** Delivers the events one after the other through the queues; each must complete. */
export async function deliverInOrder(h: WorkerHarness, events: Envelope[]) {
  for (const event of events) {
    const job = await h.deliver(event);
    expect(await job.getState()).toBe("completed");
  }
}

/** The final rows and mails of one consumer's order, as both every-order tests compare them. */
export async function admissionOutcome(h: WorkerHarness, consumerId: string, address: string) {
  return {
    admission: await admissionOf(h, consumerId),
    reservations: await h.db
      .selectFrom("reservations")
      .select(["status", "released_at"])
      .where("consumer_id", "=", consumerId)
      .execute(),
    outbox: await h.db
      .selectFrom("email_outbox")
      .select(["email_key", "status"])
      .where("to_address", "=", address)
      .execute(),
    mails: mailsTo(h, address),
  };
}
