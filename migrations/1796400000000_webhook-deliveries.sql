-- Up Migration

-- The notifier's state, all derived from the log in the same transaction as its checkpoint (so a SIGKILL
-- loses nothing: a batch either committed its deliveries and its checkpoint, or neither), except the
-- attempt records, which say what happened on the wire.

-- Endpoints as the notifier delivers to them (from the `webhookendpoint-` streams, in log order, so an
-- endpoint receives exactly the events recorded after it was created).
CREATE TABLE webhook_endpoints (
  endpoint_id uuid PRIMARY KEY,
  account_id text NOT NULL,
  url text NOT NULL,
  -- null: every event type
  event_types text[],
  secret text NOT NULL,
  -- after a rotation the old secret signs too for a day, so receivers can switch without rejecting
  previous_secret text,
  previous_secret_until timestamptz,
  enabled boolean NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  -- first failure of the current run of failures (null: the last attempt succeeded); disables after days
  failing_since timestamptz
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id) WHERE NOT deleted;

-- Which account a message belongs to and its participants (outcome events carry only the message id).
CREATE TABLE webhook_messages (
  message_id uuid PRIMARY KEY,
  account_id text NOT NULL,
  conversation_id uuid NOT NULL,
  channel text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  sender text NOT NULL,
  recipient text NOT NULL
);

-- Who owns a sender (from the `sender-` claim streams): the account an opt-out without a message belongs to.
CREATE TABLE webhook_senders (
  sender text PRIMARY KEY,
  account_id text NOT NULL
);

-- One row per (event, endpoint): the webhook-id, the exact body (a retry or a replay sends the same bytes),
-- and when the next attempt is due. A notifier holds a row it is sending until lease_until; a crashed
-- one's lease just runs out and the row is sent again (at least once, same webhook-id, same body).
CREATE TABLE webhook_deliveries (
  delivery_id uuid PRIMARY KEY,
  endpoint_id uuid NOT NULL,
  event_id uuid NOT NULL,
  event_position text NOT NULL,
  event_type text NOT NULL,
  body text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, event_position);

-- Every attempt on the wire, for the account to read (GET /api/webhook-endpoints/:id/attempts).
CREATE TABLE webhook_attempts (
  attempt_id uuid PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (delivery_id) ON DELETE CASCADE,
  endpoint_id uuid NOT NULL,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  latency_ms integer NOT NULL,
  response_status integer,
  succeeded boolean NOT NULL,
  error text
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, attempted_at DESC);

-- Down Migration
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_senders;
DROP TABLE webhook_messages;
DROP TABLE webhook_endpoints;
