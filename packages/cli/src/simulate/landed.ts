import type { Database } from "@fanfare-relay/db/schema";
import { sql, type Kysely } from "kysely";
import type { Drop } from "./drop.ts";

/** What a drop left in the database, counted over its own rows only (ids carry its run id). */
export interface Landed {
  /** Status of each of the drop's events in `webhook_events`. */
  eventStatus: Map<string, string>;
  consumers: number;
  experiences: number;
  queueParticipants: number;
  admissions: Record<string, number>;
  drawEntries: number;
  drawWinners: Record<string, number>;
  auctions: number;
  auctionBids: number;
  analyticsEvents: number;
  emails: { template: string; status: string; count: number }[];
  /** Recipient and template pairs with more than one mail that was not cancelled. */
  repeatedMails: { to: string; template: string; count: number }[];
  deadLetters: { eventId: string; type: string; error: string; resolved: boolean }[];
}

const startsWith = (column: string, prefix: string) =>
  sql<boolean>`starts_with(${sql.ref(column)}, ${prefix})`;

const byStatus = (rows: { status: string; count: number | string | bigint }[]) =>
  Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));

export async function countLanded(db: Kysely<Database>, drop: Drop): Promise<Landed> {
  const { eventIdPrefix, consumerIdPrefix, experienceId } = drop;
  const count = async (table: keyof Database, column: string, value: string) => {
    const result = await sql<{ count: string }>`
      SELECT count(*) AS count FROM ${sql.table(table)} WHERE ${sql.ref(column)} = ${value}
    `.execute(db);
    return Number(result.rows[0]?.count ?? 0);
  };

  const events = await db
    .selectFrom("webhook_events")
    .select(["event_id", "status"])
    .where(startsWith("event_id", eventIdPrefix))
    .execute();
  const consumers = await db
    .selectFrom("consumers")
    .select((eb) => eb.fn.countAll<number | string | bigint>().as("count"))
    .where(startsWith("id", consumerIdPrefix))
    .executeTakeFirstOrThrow();
  const admissions = await db
    .selectFrom("admissions")
    .select((eb) => ["status", eb.fn.countAll<number | string | bigint>().as("count")])
    .where("experience_id", "=", experienceId)
    .groupBy("status")
    .execute();
  const winners = await db
    .selectFrom("draw_winners")
    .select((eb) => ["status", eb.fn.countAll<number | string | bigint>().as("count")])
    .where("experience_id", "=", experienceId)
    .groupBy("status")
    .execute();
  const analytics = await db
    .selectFrom("analytics_events")
    .select((eb) => eb.fn.countAll<number | string | bigint>().as("count"))
    .where(startsWith("event_id", eventIdPrefix))
    .executeTakeFirstOrThrow();
  const emails = await db
    .selectFrom("email_outbox")
    .select((eb) => ["template", "status", eb.fn.countAll<number | string | bigint>().as("count")])
    .where(startsWith("event_id", eventIdPrefix))
    .groupBy(["template", "status"])
    .orderBy("template")
    .orderBy("status")
    .execute();
  const repeated = await db
    .selectFrom("email_outbox")
    .select((eb) => [
      "to_address",
      "template",
      eb.fn.countAll<number | string | bigint>().as("count"),
    ])
    .where(startsWith("event_id", eventIdPrefix))
    .where("status", "<>", "cancelled")
    .groupBy(["to_address", "template"])
    .having((eb) => eb.fn.countAll(), ">", 1)
    .execute();
  const deadLetters = await db
    .selectFrom("webhook_dead_letters")
    .select(["event_id", "type", "error", "resolved_at"])
    .where(startsWith("event_id", eventIdPrefix))
    .orderBy("event_id")
    .execute();

  return {
    eventStatus: new Map(events.map((row) => [row.event_id, row.status])),
    consumers: Number(consumers.count),
    experiences: await count("experiences", "id", experienceId),
    queueParticipants: await count("queue_participants", "experience_id", experienceId),
    admissions: byStatus(admissions),
    drawEntries: await count("draw_entries", "experience_id", experienceId),
    drawWinners: byStatus(winners),
    auctions: await count("auctions", "experience_id", experienceId),
    auctionBids: await count("auction_bids", "experience_id", experienceId),
    analyticsEvents: Number(analytics.count),
    emails: emails.map((row) => ({ ...row, count: Number(row.count) })),
    repeatedMails: repeated.map((row) => ({
      to: row.to_address,
      template: row.template,
      count: Number(row.count),
    })),
    deadLetters: deadLetters.map((row) => ({
      eventId: row.event_id,
      type: row.type,
      error: row.error,
      resolved: row.resolved_at !== null,
    })),
  };
}

/** How many of the drop's events have reached a final state (completed or dead). */
export async function countSettled(db: Kysely<Database>, drop: Drop): Promise<number> {
  const row = await db
    .selectFrom("webhook_events")
    .select((eb) => eb.fn.countAll<number | string | bigint>().as("count"))
    .where(startsWith("event_id", drop.eventIdPrefix))
    .where("status", "in", ["completed", "dead"])
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The drop's mails not yet sent nor cancelled. */
export async function countPendingMails(db: Kysely<Database>, drop: Drop): Promise<number> {
  const row = await db
    .selectFrom("email_outbox")
    .select((eb) => eb.fn.countAll<number | string | bigint>().as("count"))
    .where(startsWith("event_id", drop.eventIdPrefix))
    .where("status", "=", "pending")
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
