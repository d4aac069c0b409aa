import { sql, type Kysely } from "kysely";

// Plain SQL: operators read these tables directly, so the DDL is the documentation.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE webhook_events (
      event_id         text PRIMARY KEY,
      type             text NOT NULL,
      family           text NOT NULL,
      status           text NOT NULL
                       CHECK (status IN ('received', 'processing', 'completed', 'failed', 'dead', 'ignored')),
      attempts         integer NOT NULL DEFAULT 0,
      organization_id  text,
      experience_id    text,
      event_created_at timestamptz NOT NULL,
      received_at      timestamptz NOT NULL DEFAULT now(),
      processed_at     timestamptz,
      last_error       text
    );
    CREATE INDEX webhook_events_status_idx ON webhook_events (status, received_at);
    CREATE INDEX webhook_events_type_idx ON webhook_events (type, received_at);

    CREATE TABLE consumers (
      id                   text PRIMARY KEY,
      email                text,
      -- The time of the fact that set the email: the latest fact wins, whatever the arrival order.
      email_observed_at    timestamptz,
      external_customer_id text,
      auth_method          text,
      authenticated_at     timestamptz,
      linked_at            timestamptz,
      updated_at           timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX consumers_external_customer_id_idx ON consumers (external_customer_id);

    CREATE TABLE experiences (
      id                      text PRIMARY KEY,
      status                  text NOT NULL DEFAULT 'scheduled'
                              CHECK (status IN ('scheduled', 'live', 'paused', 'ended')),
      type                    text,
      name                    text,
      pause_reason            text,
      paused_duration_seconds integer NOT NULL DEFAULT 0,
      total_participants      integer,
      started_at              timestamptz,
      paused_at               timestamptz,
      resumed_at              timestamptz,
      ended_at                timestamptz,
      updated_at              timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE queue_participants (
      experience_id   text NOT NULL,
      consumer_id     text NOT NULL,
      distribution_id text,
      position        integer,
      entered_at      timestamptz,
      left_at         timestamptz,
      left_reason     text,
      PRIMARY KEY (experience_id, consumer_id)
    );

    CREATE TABLE admissions (
      experience_id   text NOT NULL,
      consumer_id     text NOT NULL,
      distribution_id text,
      token           text,
      status          text NOT NULL CHECK (status IN ('active', 'completed', 'expired')),
      admitted_at     timestamptz,
      expires_at      timestamptz,
      completed_at    timestamptz,
      expired_at      timestamptz,
      order_id        text,
      position        integer,
      wait_seconds    integer,
      PRIMARY KEY (experience_id, consumer_id)
    );

    CREATE TABLE reservations (
      id            bigserial PRIMARY KEY,
      experience_id text NOT NULL,
      consumer_id   text NOT NULL,
      sku           text,
      quantity      integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
      status        text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released', 'converted')),
      created_at    timestamptz NOT NULL DEFAULT now(),
      released_at   timestamptz
    );
    CREATE INDEX reservations_holder_idx ON reservations (experience_id, consumer_id);

    CREATE TABLE draw_entries (
      draw_id       text NOT NULL,
      consumer_id   text NOT NULL,
      experience_id text NOT NULL,
      entry_number  integer NOT NULL,
      created_at    timestamptz NOT NULL,
      PRIMARY KEY (draw_id, consumer_id)
    );

    CREATE TABLE draw_winners (
      draw_id        text NOT NULL,
      consumer_id    text NOT NULL,
      experience_id  text NOT NULL,
      position       integer,
      claim_token    text,
      claim_deadline timestamptz,
      status         text NOT NULL CHECK (status IN ('pending_claim', 'claimed', 'expired')),
      order_id       text,
      claimed_at     timestamptz,
      expired_at     timestamptz,
      PRIMARY KEY (draw_id, consumer_id)
    );

    CREATE TABLE auctions (
      auction_id         text PRIMARY KEY,
      experience_id      text NOT NULL,
      status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'ended')),
      currency           text,
      high_bid           bigint CHECK (high_bid >= 0),
      high_bidder_id     text,
      winner_id          text,
      final_bid          bigint CHECK (final_bid >= 0),
      ended_at           timestamptz,
      winner_notified_at timestamptz
    );

    CREATE TABLE auction_bids (
      bid_id        text PRIMARY KEY,
      auction_id    text NOT NULL,
      experience_id text NOT NULL,
      consumer_id   text NOT NULL,
      amount        bigint NOT NULL CHECK (amount >= 0),
      currency      text NOT NULL,
      placed_at     timestamptz NOT NULL
    );
    CREATE INDEX auction_bids_auction_idx ON auction_bids (auction_id, amount DESC);

    CREATE TABLE email_outbox (
      id         bigserial PRIMARY KEY,
      -- One row per logical email (e.g. 'admission-granted:<experience>:<consumer>'): the unique
      -- key is what makes a redelivered event unable to queue the same email twice.
      email_key  text NOT NULL UNIQUE,
      message_id text NOT NULL UNIQUE,
      event_id   text NOT NULL,
      template   text NOT NULL,
      to_address text NOT NULL,
      subject    text NOT NULL,
      text_body  text NOT NULL,
      html_body  text NOT NULL,
      status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'cancelled')),
      attempts   integer NOT NULL DEFAULT 0,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at    timestamptz
    );
    CREATE INDEX email_outbox_pending_idx ON email_outbox (created_at) WHERE status = 'pending';

    CREATE TABLE analytics_events (
      id          bigserial PRIMARY KEY,
      name        text NOT NULL,
      event_id    text NOT NULL,
      properties  jsonb NOT NULL DEFAULT '{}',
      occurred_at timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (name, event_id)
    );

    CREATE TABLE webhook_dead_letters (
      id          bigserial PRIMARY KEY,
      event_id    text NOT NULL UNIQUE,
      type        text NOT NULL,
      queue_name  text NOT NULL,
      job_id      text NOT NULL,
      payload     jsonb NOT NULL,
      error       text NOT NULL,
      failed_at   timestamptz NOT NULL DEFAULT now(),
      retry_count integer NOT NULL DEFAULT 0,
      redriven_at timestamptz,
      resolved_at timestamptz
    );
    CREATE INDEX webhook_dead_letters_open_idx ON webhook_dead_letters (failed_at) WHERE resolved_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE webhook_dead_letters, analytics_events, email_outbox, auction_bids, auctions,
      draw_winners, draw_entries, reservations, admissions, queue_participants, experiences,
      consumers, webhook_events;
  `.execute(db);
}
