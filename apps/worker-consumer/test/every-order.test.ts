import type { Envelope } from "@fanfare-relay/events/envelope";
import {
  createWorkerHarness,
  inMinutes,
  type WorkerHarness,
} from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerHandlers } from "../src/handlers.ts";
import { at, authenticated, consumerFacts, linked, outboxCount } from "./consumer-fixtures.ts";
import { permutations } from "@fanfare-relay/testing/permutations";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("consumer", consumerHandlers);
});
afterAll(async () => {
  await h.close();
});

/**
 * Delivers every order of a lifecycle, each to a consumer of its own (orders run side by side,
 * the events of one order one after the other) and returns each consumer's final facts.
 */
async function finalFactsOfEveryOrder(
  label: string,
  lifecycle: ((consumerId: string) => Envelope)[],
) {
  const orders = permutations(lifecycle.map((build, index) => ({ build, index })));
  return Promise.all(
    orders.map(async (order, orderIndex) => {
      const consumerId = `con_${label}_${orderIndex}`;
      for (const { build } of order) {
        const job = await h.deliver(build(consumerId));
        expect(await job.getState()).toBe("completed");
      }
      return {
        order: order.map(({ index }) => index).join(""),
        facts: await consumerFacts(h.db, consumerId),
      };
    }),
  );
}

function expectIdenticalFacts(results: { order: string; facts: unknown }[], expected: unknown) {
  for (const { order, facts } of results)
    expect({ order, facts }).toEqual({ order, facts: expected });
}

describe("guarantee: a consumer's facts end the same in every order", () => {
  it("sign-in, link with a newer email, then a sign-in without email: the link's email stays", async () => {
    const results = await finalFactsOfEveryOrder("auth_link", [
      (id) => authenticated(id, { at: at(1), email: "a@example.com", method: "email_otp" }),
      (id) => linked(id, { at: at(2), externalCustomerId: "shop_cus_1", email: "b@example.com" }),
      (id) => authenticated(id, { at: at(3), method: "passkey" }),
    ]);
    expect(results).toHaveLength(6);
    expectIdenticalFacts(results, {
      email: "b@example.com",
      email_observed_at: new Date(at(2)),
      auth_method: "passkey",
      authenticated_at: new Date(at(3)),
      external_customer_id: "shop_cus_1",
      linked_at: new Date(at(2)),
    });
  });

  it("two links to different customers: the later link wins", async () => {
    const results = await finalFactsOfEveryOrder("relink", [
      (id) => linked(id, { at: at(1), externalCustomerId: "shop_cus_old", email: "c@example.com" }),
      (id) => linked(id, { at: at(2), externalCustomerId: "shop_cus_new", email: "d@example.com" }),
    ]);
    expect(results).toHaveLength(2);
    expectIdenticalFacts(results, {
      email: "d@example.com",
      email_observed_at: new Date(at(2)),
      auth_method: null,
      authenticated_at: null,
      external_customer_id: "shop_cus_new",
      linked_at: new Date(at(2)),
    });
  });

  it("facts with the same time settle on one value whatever arrives last", async () => {
    const results = await finalFactsOfEveryOrder("tie", [
      (id) => authenticated(id, { at: at(4), email: "x@example.com", method: "email_otp" }),
      (id) => authenticated(id, { at: at(4), email: "y@example.com" }),
      (id) => linked(id, { at: at(4), externalCustomerId: "shop_cus_x", email: "w@example.com" }),
      (id) => linked(id, { at: at(4), externalCustomerId: "shop_cus_y" }),
    ]);
    expect(results).toHaveLength(24);
    expectIdenticalFacts(results, {
      email: "y@example.com",
      email_observed_at: new Date(at(4)),
      auth_method: "email_otp",
      authenticated_at: new Date(at(4)),
      external_customer_id: "shop_cus_y",
      linked_at: new Date(at(4)),
    });
  });

  it("sent no mail in any order", async () => {
    expect(h.smtp.mails).toHaveLength(0);
    expect(await outboxCount(h.db)).toBe(0);
  });
});

describe("guarantee: the mails owed to a consumer go out once, whatever order their facts arrive in", () => {
  it("6 orders of sign-in, link and a sign-in without email, for a consumer with an open admission, an open prize and a won auction → each of the 3 mails exactly once, to the first email known", async () => {
    const orders = permutations(["signIn", "link", "signInNoEmail"] as const);
    await Promise.all(
      orders.map(async (order, index) => {
        const consumerId = `con_owed_${String(index)}`;
        await h.db
          .insertInto("admissions")
          .values({
            experience_id: "exp_owed",
            consumer_id: consumerId,
            token: "adm_owed",
            expires_at: inMinutes(10),
            status: "active",
          })
          .execute();
        await h.db
          .insertInto("draw_winners")
          .values({
            draw_id: "draw_owed",
            consumer_id: consumerId,
            experience_id: "exp_owed",
            claim_token: "clm_owed",
            claim_deadline: inMinutes(60),
            status: "pending_claim",
          })
          .execute();
        await h.db
          .insertInto("auctions")
          .values({
            auction_id: `auc_owed_${String(index)}`,
            experience_id: "exp_owed",
            status: "ended",
            winner_id: consumerId,
            ended_at: inMinutes(-1),
          })
          .execute();
        const events = {
          signIn: authenticated(consumerId, { at: at(1), email: `a${String(index)}@owed.test` }),
          link: linked(consumerId, {
            at: at(2),
            externalCustomerId: "shop_cus_owed",
            email: `b${String(index)}@owed.test`,
          }),
          signInNoEmail: authenticated(consumerId, { at: at(3), method: "passkey" }),
        };
        for (const step of order) {
          const job = await h.deliver(events[step]);
          expect(await job.getState()).toBe("completed");
        }
        const firstEmail = order.find((step) => step !== "signInNoEmail") === "signIn" ? "a" : "b";
        const mails = h.smtp.mails
          .filter((mail) => mail.to.some((to) => to.endsWith(`${String(index)}@owed.test`)))
          .map((mail) => `${mail.to.join(",")}: ${mail.subject ?? ""}`)
          .sort();
        const to = `${firstEmail}${String(index)}@owed.test`;
        expect(mails, order.join(" → ")).toEqual([
          `${to}: You won the auction!`,
          `${to}: You won the draw! Claim your prize`,
          `${to}: You're in! Complete your purchase`,
        ]);
      }),
    );
  });
});
