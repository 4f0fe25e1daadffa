-- Up Migration

-- Poison events: an event a projection could not apply for a non-transient reason (a value PostgreSQL
-- refuses, a constraint). The projector records it here, moves its checkpoint past it and goes on, so one
-- bad event never freezes the read side. `bin/replay --retry-quarantined` applies the open ones again
-- (after a fix) and marks those that now apply as resolved.
CREATE TABLE projection_quarantine (
  projection text NOT NULL,
  position text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  stream_id text NOT NULL,
  error text NOT NULL,
  -- SQLSTATE of the refusal, when PostgreSQL refused it
  sqlstate text,
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  retried_at timestamptz,
  resolved_at timestamptz,
  PRIMARY KEY (projection, position)
);
CREATE INDEX projection_quarantine_open_idx ON projection_quarantine (position) WHERE resolved_at IS NULL;

-- Down Migration
DROP TABLE projection_quarantine;
