-- Up Migration

-- A receipt moves a message's status only once a MessageSent recorded its provider message id; one that
-- reaches the log first waits in the row's ledger (`{"sent": {id: provider}, "held": [receipt events]}`).
ALTER TABLE messages ADD COLUMN receipt_ledger jsonb NOT NULL DEFAULT '{"sent": {}, "held": []}'::jsonb;

-- Which receipts were early only the log knows (a row keeps one provider message id, not every send's):
-- empty the projection and drop its checkpoint so the projector rebuilds it from the start of the log, as
-- the account-reads migration does.
TRUNCATE messages;
DELETE FROM subscription_checkpoints WHERE subscription_id = 'projection:messages';

-- Down Migration
ALTER TABLE messages DROP COLUMN receipt_ledger;
