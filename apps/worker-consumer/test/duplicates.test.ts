import { parseFamilyEvent, processEvent } from "@fanfare-relay/worker/process-event";
import { createWorkerHarness, type WorkerHarness } from "@fanfare-relay/worker/testing/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerHandlers } from "../src/handlers.ts";
import {
  analyticsOf,
  at,
  authenticated,
  consumerFacts,
  linked,
  outboxCount,
} from "./consumer-fixtures.ts";

let h: WorkerHarness;
beforeAll(async () => {
  h = await createWorkerHarness("consumer", consumerHandlers);
});
afterAll(async () => {
  await h.close();
});

const times = <T>(count: number, run: () => Promise<T>) =>
  Promise.all(Array.from({ length: count }, run));

describe("guarantee: duplicate consumer events apply once", () => {
  it("20 concurrent applications of one event apply it once", async () => {
    const envelope = authenticated("con_dup1", {
      at: at(5),
      email: "dup1@example.com",
      method: "email_otp",
    });
    const options = {
      db: h.db,
      family: "consumer" as const,
      handlers: consumerHandlers,
      messageIdDomain: "shop.test",
      shopUrl: "https://shop.test",
    };
    const outcomes = await times(20, () =>
      processEvent(options, parseFamilyEvent("consumer", envelope)),
    );
    expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(19);

    expect(await analyticsOf(h.db, envelope.id)).toHaveLength(1);
    expect(await consumerFacts(h.db, "con_dup1")).toMatchObject({
      email: "dup1@example.com",
      authenticated_at: new Date(at(5)),
    });
    expect(await outboxCount(h.db)).toBe(0);
  });

  it("20 concurrent enqueues of one event make one job, applied once", async () => {
    const envelope = linked("con_dup2", {
      at: at(8),
      externalCustomerId: "shop_cus_dup2",
      email: "dup2@example.com",
    });
    const results = await times(20, () => h.producer.enqueue(envelope));
    const jobIds = new Set(results.map((result) => result.jobId));
    expect(jobIds.size).toBe(1);
    const [jobId] = jobIds;
    if (jobId === undefined) throw new Error("no job");
    const job = await h.settled(jobId);
    expect(await job.getState()).toBe("completed");

    expect(await analyticsOf(h.db, envelope.id)).toHaveLength(1);
    const claims = await h.db
      .selectFrom("webhook_events")
      .select(["status", "attempts"])
      .where("event_id", "=", envelope.id)
      .execute();
    expect(claims).toEqual([{ status: "completed", attempts: 1 }]);
    expect(await consumerFacts(h.db, "con_dup2")).toMatchObject({
      email: "dup2@example.com",
      external_customer_id: "shop_cus_dup2",
    });
    // Nothing is owed to this consumer: no mail.
    expect(h.smtp.mails).toHaveLength(0);
    expect(await outboxCount(h.db)).toBe(0);
  });
});
