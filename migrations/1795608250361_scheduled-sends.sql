-- Up Migration

-- Scheduled sends: a message may be `scheduled` (due at send_at) and end `cancelled`.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
  CHECK (status IN ('scheduled', 'queued', 'received', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled'));
ALTER TABLE messages ADD COLUMN send_at timestamptz;
ALTER TABLE messages ADD COLUMN cancelled_at timestamptz;

-- Down Migration
ALTER TABLE messages DROP COLUMN cancelled_at;
ALTER TABLE messages DROP COLUMN send_at;
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
  CHECK (status IN ('queued', 'received', 'sent', 'delivered', 'undelivered', 'failed'));
