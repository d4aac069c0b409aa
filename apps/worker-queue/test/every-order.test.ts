import type { Envelope } from "@fanfare-relay/events/envelope";
import { permutations } from "@fanfare-relay/testing/permutations";
import { consumerHandlers } from "@fanfare-relay/worker-consumer/handlers";
import { deliverEventEmails } from "@fanfare-relay/worker/email-outbox";
import { createMailer, type Mailer } from "@fanfare-relay/worker/mailer";
import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import {
  createWorkerHarness,
  inMinutes,
  sampleEvent,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { holdBeforeCommit, transactionRendezvous } from "@fanfare-relay/worker/testing/rendezvous";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueHandlers } from "../src/handlers.ts";
import {
  admissionLifecycle,
  admissionOutcome,
  authenticated,
  deliverInOrder as sharedDeliverInOrder,
  mailsTo as sharedMailsTo,
  YOURE_IN,
  type AdmissionStep,
} from "./admission-orders.ts";

let h: WorkerHarness;
let mailer: Mailer;
beforeAll(async () => {
  // The consumer worker runs next to the queue worker, on the same database: the email and the
  // admission arrive on different queues, in any order.
  h = await createWorkerHarness(
    "queue",
    queueHandlers,
    {},
    { alongside: [{ family: "consumer", handlers: consumerHandlers }] },
  );
  mailer = createMailer({ smtpUrl: h.smtp.url, from: "Shop <no-reply@shop.test>" });
});
afterAll(async () => {
  mailer.close();
  await h.close();
});

// One set of instants for every order, so the rows can be compared.
const admittedAt = inMinutes(0);
const expiresAt = inMinutes(10);

const mailsTo = (address: string) => sharedMailsTo(h, address);
const deliverInOrder = (events: Envelope[]) => sharedDeliverInOrder(h, events);

describe("guarantee: the admission lifecycle ends the same, and mails right, in every order", () => {
  it("24 orders of admitted, completed, expired and the consumer's sign-in → identical rows; 1 \"You're in\" exactly when admission and email were both known before the end", async () => {
    const orders = permutations<AdmissionStep>([
      "admitted",
      "completed",
      "expired",
      "authenticated",
    ]);
    expect(orders).toHaveLength(24);
    const finals = await Promise.all(
      orders.map(async (order, index) => {
        const consumerId = `con_life_${String(index)}`;
        const address = `${consumerId}@example.com`;
        await h.db
          .insertInto("reservations")
          .values({ experience_id: "exp_life", consumer_id: consumerId, sku: "sku_1" })
          .execute();
        const events = admissionLifecycle(
          { consumerId, experienceId: "exp_life" },
          { token: "adm_tok_life", admittedAt, expiresAt, email: address },
        );
        await deliverInOrder(order.map((step) => events[step]));
        return { order, consumerId, ...(await admissionOutcome(h, consumerId, address)) };
      }),
    );
    for (const final of finals) {
      const label = final.order.join(" → ");
      expect(final.admission, label).toEqual(finals[0]?.admission);
      expect(final.reservations, label).toEqual([{ status: "converted", released_at: null }]);
      // The mail is owed from the moment both facts are known until the admission ends.
      const end = Math.min(final.order.indexOf("completed"), final.order.indexOf("expired"));
      const owed =
        final.order.indexOf("admitted") < end && final.order.indexOf("authenticated") < end;
      expect(final.mails, label).toEqual(owed ? [YOURE_IN] : []);
      expect(final.outbox, label).toEqual(
        owed
          ? [{ email_key: `admission-granted:exp_life:${final.consumerId}`, status: "sent" }]
          : [],
      );
    }
    expect(finals[0]?.admission).toMatchObject({
      status: "completed",
      token: "adm_tok_life",
      order_id: "ord_1",
    });
    // Either path may queue it: orders where the sign-in came second are among those mailed.
    const mailedBySignIn = finals.filter(
      ({ order, mails }) =>
        mails.length === 1 && order.indexOf("authenticated") > order.indexOf("admitted"),
    );
    expect(mailedBySignIn.length).toBeGreaterThan(0);
  });

  it('6 orders of entered, admitted and the sign-in, the window still open → exactly 1 "You\'re in" in every order, with the token and the expiry', async () => {
    const orders = permutations(["entered", "admitted", "authenticated"] as const);
    await Promise.all(
      orders.map(async (order, index) => {
        const consumerId = `con_open_${String(index)}`;
        const address = `${consumerId}@example.com`;
        const subject = { consumerId, experienceId: "exp_open" };
        const events = {
          entered: sampleEvent("queue.consumer_entered", { ...subject, position: 3 }),
          admitted: sampleEvent("queue.consumer_admitted", {
            ...subject,
            admissionToken: `adm_tok_open_${String(index)}`,
            admittedAt,
            expiresAt,
          }),
          authenticated: authenticated(consumerId, address),
        };
        await deliverInOrder(order.map((step) => events[step]));
        const mails = h.smtp.mails.filter((mail) => mail.to.includes(address));
        expect(
          mails.map((mail) => mail.subject),
          order.join(" → "),
        ).toEqual([YOURE_IN]);
        expect(mails[0]?.text).toContain(
          `https://shop.test/checkout?token=adm_tok_open_${String(index)}`,
        );
        expect(mails[0]?.text).toContain(expiresAt.slice(0, 16).replace("T", " "));
      }),
    );
  });
});

/** Applies two events in two concurrent transactions that both do their work before either commits. */
async function applyConcurrently(consumerEvent: Envelope, queueEvent: Envelope) {
  const { arrive } = transactionRendezvous(h.db, 2);
  const common = { db: h.db, messageIdDomain: "shop.test", shopUrl: "https://shop.test" };
  await Promise.all([
    processEvent(
      { ...common, family: "consumer", handlers: holdBeforeCommit(consumerHandlers, arrive) },
      parseFamilyEvent("consumer", consumerEvent),
    ),
    processEvent(
      { ...common, family: "queue", handlers: holdBeforeCommit(queueHandlers, arrive) },
      parseFamilyEvent("queue", queueEvent),
    ),
  ]);
  // Then each worker sends what its event queued, as after its commit.
  for (const event of [consumerEvent, queueEvent]) {
    const report = await deliverEventEmails(h.db, mailer, event.id);
    expect(report.failed).toEqual([]);
  }
}

describe("fault: the consumer's sign-in and their admission applied at the same moment by two workers", () => {
  it('10 pairs of concurrent transactions (sign-in ∥ admitted), each holding its commit until both did their reads → exactly 1 "You\'re in" per consumer', async () => {
    for (let index = 0; index < 10; index++) {
      const consumerId = `con_race_${String(index)}`;
      const address = `${consumerId}@example.com`;
      await applyConcurrently(
        authenticated(consumerId, address),
        sampleEvent("queue.consumer_admitted", {
          consumerId,
          experienceId: "exp_race",
          admissionToken: "adm_tok_race",
          admittedAt,
          expiresAt: inMinutes(10),
        }),
      );
      expect(mailsTo(address), consumerId).toEqual([YOURE_IN]);
      const rows = await h.db
        .selectFrom("email_outbox")
        .select("status")
        .where("email_key", "=", `admission-granted:exp_race:${consumerId}`)
        .execute();
      expect(rows).toEqual([{ status: "sent" }]);
    }
  });

  it("10 pairs of concurrent transactions (sign-in ∥ admission completed) on an admission admitted earlier → 0 mails, no mail left pending", async () => {
    for (let index = 0; index < 10; index++) {
      const consumerId = `con_race_done_${String(index)}`;
      const address = `${consumerId}@example.com`;
      const subject = { consumerId, experienceId: "exp_race_done" };
      await deliverInOrder([
        sampleEvent("queue.consumer_admitted", {
          ...subject,
          admissionToken: "adm_tok_race_done",
          admittedAt,
          expiresAt: inMinutes(10),
        }),
      ]);
      await applyConcurrently(
        authenticated(consumerId, address),
        sampleEvent("queue.admission_completed", { ...subject, orderId: "ord_race" }),
      );
      expect(mailsTo(address), consumerId).toEqual([]);
      const pending = await h.db
        .selectFrom("email_outbox")
        .select("status")
        .where("to_address", "=", address)
        .where("status", "=", "pending")
        .execute();
      expect(pending).toEqual([]);
    }
  });
});
