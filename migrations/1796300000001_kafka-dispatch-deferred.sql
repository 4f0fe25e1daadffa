-- Up Migration

-- Kafka dispatch records not due yet (scheduled sends, retries with a later dueAt). The relay keeps them
-- here instead of publishing them early, and publishes each once it falls due, so consumers never hold a
-- long timer (setTimeout overflows past ~24.8 days) nor an uncommitted offset for weeks. Written before the
-- relay's checkpoint moves past the event, removed only after the record was published: nothing is lost.
CREATE TABLE kafka_dispatch_deferred (
  event_id text PRIMARY KEY,
  message_id uuid NOT NULL,
  record_key text NOT NULL,
  record jsonb NOT NULL,
  due_at timestamptz NOT NULL
);
CREATE INDEX kafka_dispatch_deferred_due_idx ON kafka_dispatch_deferred (due_at);

-- Down Migration
DROP TABLE kafka_dispatch_deferred;
