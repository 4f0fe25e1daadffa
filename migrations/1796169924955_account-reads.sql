-- Up Migration

-- Conversations and messages belong to an account (the `accountId` of MessageRequested / MessageReceived;
-- v1 events, which have none, belong to the local account). Every client read filters by it. Text, like the
-- events' field: a deprecated API_KEYS client (local mode only) acts under its name, which is no uuid.
ALTER TABLE conversations ADD COLUMN account_id text;
-- NULL while only receipts for a message have arrived: a receipt does not name the account.
ALTER TABLE messages ADD COLUMN account_id text;

-- The existing rows have no account yet, and only the log knows it. Rather than guess it in SQL, empty the
-- two projections' tables and drop their checkpoints: the projector then rebuilds them from the start of
-- the log (the query side's watermark stays unset, so reads wait, until every read table has caught up
-- again). A projector running meanwhile finds its checkpoint gone, fails its compare-and-set and restarts
-- from the stored checkpoints.
TRUNCATE conversation_participants, conversations, messages;
DELETE FROM subscription_checkpoints
 WHERE subscription_id IN ('projection:conversations', 'projection:messages');

ALTER TABLE conversations ALTER COLUMN account_id SET NOT NULL;
-- The account comes with the content, all at once.
ALTER TABLE messages ADD CONSTRAINT messages_account_with_content CHECK ((account_id IS NULL) = (conversation_id IS NULL));

-- An account's listing order (last activity, newest first) with the same unique tie-breaker for keyset
-- cursors; the unscoped index stays for operator reads of every account.
CREATE INDEX conversations_account_activity_idx
  ON conversations (account_id, last_activity_at DESC, conversation_id DESC);

-- Down Migration
DROP INDEX conversations_account_activity_idx;
ALTER TABLE messages DROP CONSTRAINT messages_account_with_content;
ALTER TABLE messages DROP COLUMN account_id;
ALTER TABLE conversations DROP COLUMN account_id;
