-- Up Migration

-- Retention (WEBHOOK_RETENTION_DAYS): the notifier deletes delivered deliveries older than the window in
-- batches, oldest first; their attempts go with them (ON DELETE CASCADE), which needs attempts indexed by
-- delivery, else each deleted delivery scans every attempt.
CREATE INDEX webhook_deliveries_delivered_idx ON webhook_deliveries (delivered_at) WHERE state = 'delivered';
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);

-- Down Migration
DROP INDEX webhook_attempts_delivery_idx;
DROP INDEX webhook_deliveries_delivered_idx;
