-- Up Migration

-- Read tables derived from the event log by the projector (projections/). They can be dropped and
-- rebuilt from the log at any time; `bin/replay` copies their definitions into audit schemas with
-- CREATE TABLE ... (LIKE public.<table> INCLUDING ALL), so keep everything a table needs on the table.

-- One row per conversation (keyed by the normalised participant set; the id comes from the events).
CREATE TABLE conversations (
  conversation_id uuid PRIMARY KEY,
  -- normalised addresses (E.164 phones, lower-cased emails), sorted, distinct
  participants text[] NOT NULL CHECK (cardinality(participants) > 0),
  -- channels seen in this conversation, sorted, distinct
  channels text[] NOT NULL CHECK (channels <@ ARRAY['sms', 'mms', 'email']::text[]),
  message_count integer NOT NULL CHECK (message_count > 0),
  first_message_at timestamptz NOT NULL,
  last_activity_at timestamptz NOT NULL,
  last_message_id uuid NOT NULL,
  last_message_direction text NOT NULL CHECK (last_message_direction IN ('outbound', 'inbound')),
  last_message_channel text NOT NULL,
  last_message_preview text NOT NULL,
  -- log position of the last event that changed the row
  updated_position text NOT NULL,
  CHECK (first_message_at <= last_activity_at)
);
-- listing order (last activity, newest first) with a unique tie-breaker for keyset cursors
CREATE INDEX conversations_activity_idx ON conversations (last_activity_at DESC, conversation_id DESC);

CREATE TABLE conversation_participants (
  conversation_id uuid NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
  address text NOT NULL CHECK (address <> ''),
  PRIMARY KEY (address, conversation_id)
);
CREATE INDEX conversation_participants_conversation_idx ON conversation_participants (conversation_id);

-- One row per message. A receipt can reach the log before the message itself (odd, but the outside
-- world does it): the row then exists with its status and no content until the message arrives.
CREATE TABLE messages (
  message_id uuid PRIMARY KEY,
  conversation_id uuid,
  direction text CHECK (direction IN ('outbound', 'inbound')),
  channel text CHECK (channel IN ('sms', 'mms', 'email')),
  from_address text,
  to_address text,
  body text,
  attachments jsonb,
  subject text,
  cc text[],
  bcc text[],
  reply_to text,
  client_id text,
  status text NOT NULL CHECK (status IN ('queued', 'received', 'sent', 'delivered', 'undelivered', 'failed')),
  provider text,
  provider_message_id text,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  error_code text,
  -- the timestamp the client or provider put on the message
  client_timestamp timestamptz,
  -- when we accepted (outbound) or received (inbound) it: the order within a conversation
  occurred_at timestamptz,
  next_attempt_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  undelivered_at timestamptz,
  failed_at timestamptz,
  status_changed_at timestamptz,
  created_position text NOT NULL,
  updated_position text NOT NULL,
  -- content arrives all at once with MessageRequested / MessageReceived
  CHECK (
    (conversation_id IS NULL AND direction IS NULL AND occurred_at IS NULL)
    OR (conversation_id IS NOT NULL AND direction IS NOT NULL AND channel IS NOT NULL AND from_address IS NOT NULL
        AND to_address IS NOT NULL AND body IS NOT NULL AND occurred_at IS NOT NULL)
  )
);
CREATE INDEX messages_conversation_time_idx ON messages (conversation_id, occurred_at, message_id)
  WHERE conversation_id IS NOT NULL;
CREATE INDEX messages_provider_message_idx ON messages (provider, provider_message_id)
  WHERE provider_message_id IS NOT NULL;

-- Every event of a message's lifecycle, in log order: its status history.
CREATE TABLE message_events (
  message_id uuid NOT NULL,
  position text NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  -- the status this event reports (the message's current status is on messages.status)
  status text NOT NULL,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  provider text,
  provider_message_id text,
  attempt integer,
  reason text,
  provider_status integer,
  error_code text,
  due_at timestamptz,
  -- one index only: this is the table with the most rows written per event
  PRIMARY KEY (message_id, position)
);

-- Down Migration
DROP TABLE message_events;
DROP TABLE messages;
DROP TABLE conversation_participants;
DROP TABLE conversations;
