import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/** timestamptz: read as Date, written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export type WebhookEventStatus =
  "received" | "processing" | "completed" | "failed" | "dead" | "ignored";

export interface WebhookEventsTable {
  event_id: string;
  type: string;
  family: string;
  status: WebhookEventStatus;
  attempts: Generated<number>;
  organization_id: string | null;
  experience_id: string | null;
  /** NULL when the event's `created` is no representable time (its failure is still recorded). */
  event_created_at: Timestamp | null;
  received_at: DefaultedTimestamp;
  processed_at: Timestamp | null;
  last_error: string | null;
  /** Set when an operator changed the job's data in the dashboard (see job_data_edits). */
  edited_at: Timestamp | null;
  /** The dashboard user who last changed the job's data. */
  edited_by: string | null;
}

export interface ConsumersTable {
  id: string;
  email: string | null;
  email_observed_at: Timestamp | null;
  external_customer_id: string | null;
  auth_method: string | null;
  authenticated_at: Timestamp | null;
  linked_at: Timestamp | null;
  updated_at: DefaultedTimestamp;
}

export type ExperienceStatus = "scheduled" | "live" | "paused" | "ended";

export interface ExperiencesTable {
  id: string;
  status: ColumnType<ExperienceStatus, ExperienceStatus | undefined, ExperienceStatus>;
  type: string | null;
  name: string | null;
  pause_reason: string | null;
  paused_duration_seconds: Generated<number>;
  total_participants: number | null;
  started_at: Timestamp | null;
  paused_at: Timestamp | null;
  resumed_at: Timestamp | null;
  ended_at: Timestamp | null;
  updated_at: DefaultedTimestamp;
}

export interface QueueParticipantsTable {
  experience_id: string;
  consumer_id: string;
  distribution_id: string | null;
  position: number | null;
  entered_at: Timestamp | null;
  left_at: Timestamp | null;
  left_reason: string | null;
}

export type AdmissionStatus = "active" | "completed" | "expired";

export interface AdmissionsTable {
  experience_id: string;
  consumer_id: string;
  distribution_id: string | null;
  token: string | null;
  status: AdmissionStatus;
  admitted_at: Timestamp | null;
  expires_at: Timestamp | null;
  completed_at: Timestamp | null;
  expired_at: Timestamp | null;
  order_id: string | null;
  position: number | null;
  wait_seconds: number | null;
}

export interface ReservationsTable {
  id: Generated<number>;
  experience_id: string;
  consumer_id: string;
  sku: string | null;
  quantity: Generated<number>;
  status: ColumnType<
    "held" | "released" | "converted",
    "held" | undefined,
    "released" | "converted"
  >;
  created_at: DefaultedTimestamp;
  released_at: Timestamp | null;
}

export interface DrawEntriesTable {
  draw_id: string;
  consumer_id: string;
  experience_id: string;
  entry_number: number;
  created_at: Timestamp;
}

export type DrawWinnerStatus = "pending_claim" | "claimed" | "expired";

export interface DrawWinnersTable {
  draw_id: string;
  consumer_id: string;
  experience_id: string;
  position: number | null;
  claim_token: string | null;
  claim_deadline: Timestamp | null;
  status: DrawWinnerStatus;
  order_id: string | null;
  claimed_at: Timestamp | null;
  expired_at: Timestamp | null;
}

export interface AuctionsTable {
  auction_id: string;
  experience_id: string;
  status: ColumnType<"open" | "ended", "open" | "ended" | undefined, "open" | "ended">;
  currency: string | null;
  /** Minor units. */
  high_bid: number | null;
  high_bidder_id: string | null;
  winner_id: string | null;
  /** Minor units. */
  final_bid: number | null;
  ended_at: Timestamp | null;
  winner_notified_at: Timestamp | null;
}

export interface AuctionBidsTable {
  bid_id: string;
  auction_id: string;
  experience_id: string;
  consumer_id: string;
  /** Minor units. */
  amount: number;
  currency: string;
  placed_at: Timestamp;
}

export interface EmailOutboxTable {
  id: Generated<number>;
  email_key: string;
  message_id: string;
  event_id: string;
  template: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: ColumnType<"pending" | "sent" | "cancelled", "pending" | undefined, "sent" | "cancelled">;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: DefaultedTimestamp;
  sent_at: Timestamp | null;
}

export interface AnalyticsEventsTable {
  id: Generated<number>;
  name: string;
  event_id: string;
  properties: Json;
  occurred_at: Timestamp;
  recorded_at: DefaultedTimestamp;
}

/** One change an operator made to a failed job's data in the dashboard (migration 0002). */
export interface JobDataEditsTable {
  id: Generated<number>;
  event_id: string;
  queue_name: string;
  job_id: string;
  edited_by: string;
  edited_at: DefaultedTimestamp;
  /** `[{ path, before?, after? }]`: the fields that changed, a missing side meaning absent. */
  changes: Json;
}

export interface WebhookDeadLettersTable {
  id: Generated<number>;
  event_id: string;
  type: string;
  queue_name: string;
  job_id: string;
  payload: Json;
  error: string;
  failed_at: DefaultedTimestamp;
  retry_count: Generated<number>;
  redriven_at: Timestamp | null;
  resolved_at: Timestamp | null;
}

export interface Database {
  webhook_events: WebhookEventsTable;
  consumers: ConsumersTable;
  experiences: ExperiencesTable;
  queue_participants: QueueParticipantsTable;
  admissions: AdmissionsTable;
  reservations: ReservationsTable;
  draw_entries: DrawEntriesTable;
  draw_winners: DrawWinnersTable;
  auctions: AuctionsTable;
  auction_bids: AuctionBidsTable;
  email_outbox: EmailOutboxTable;
  analytics_events: AnalyticsEventsTable;
  webhook_dead_letters: WebhookDeadLettersTable;
  job_data_edits: JobDataEditsTable;
}

export type WebhookEvent = Selectable<WebhookEventsTable>;
export type NewWebhookEvent = Insertable<WebhookEventsTable>;
export type WebhookEventUpdate = Updateable<WebhookEventsTable>;
export type Admission = Selectable<AdmissionsTable>;
export type DeadLetter = Selectable<WebhookDeadLettersTable>;
