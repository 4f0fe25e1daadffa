-- Up Migration

-- The dispatcher's schedule: one row per outbound message that has no outcome yet, with when its next
-- attempt is due. Derived from the log (MessageRequested → due now, MessageRetryScheduled → due at dueAt,
-- MessageSent/MessageFailed → row removed) and written in the same transaction as the dispatcher's
-- checkpoint, so it can be rebuilt by resetting that checkpoint and truncating it. It lets a restarted
-- dispatcher find retries that fall due long after its checkpoint moved on.
CREATE TABLE dispatch_schedule (
  message_id uuid PRIMARY KEY,
  -- version of the last stream event applied: an older event never overwrites a newer one
  stream_version bigint NOT NULL,
  due_at timestamptz NOT NULL,
  -- a dispatcher working on the message holds it until then; a crashed one's lease just runs out
  lease_until timestamptz
);
-- what is waiting for a dispatcher, by due time; and leases to take back from crashed dispatchers
CREATE INDEX dispatch_schedule_waiting_idx ON dispatch_schedule (due_at) WHERE lease_until IS NULL;
CREATE INDEX dispatch_schedule_lease_idx ON dispatch_schedule (lease_until) WHERE lease_until IS NOT NULL;

-- Down Migration
DROP TABLE dispatch_schedule;
