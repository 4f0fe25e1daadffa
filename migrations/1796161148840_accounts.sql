-- Up Migration

-- Accounts (customers), the senders they own and their API keys, derived from the log by the `accounts`
-- projection (projections/src/accounts.ts). The log's claim streams keep a sender to one account; the
-- primary key on account_senders.sender states the same here.

CREATE TABLE accounts (
  account_id uuid PRIMARY KEY,
  name text NOT NULL CHECK (name <> ''),
  created_at timestamptz NOT NULL,
  updated_position text NOT NULL
);
CREATE INDEX accounts_name_idx ON accounts (lower(name));

-- phone: E.164 for SMS/MMS; email: one address; email_domain: `@example.com`, every address at that domain.
CREATE TABLE account_senders (
  sender text PRIMARY KEY CHECK (sender <> ''),
  account_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('phone', 'email', 'email_domain')),
  added_at timestamptz NOT NULL,
  updated_position text NOT NULL
);
CREATE INDEX account_senders_account_idx ON account_senders (account_id);

-- Keys are stored as their SHA-256 (hex) only; a request is authenticated by looking its key's hash up here.
CREATE TABLE api_keys (
  key_id uuid PRIMARY KEY,
  account_id uuid NOT NULL,
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  prefix text NOT NULL,
  issued_at timestamptz NOT NULL,
  revoked_at timestamptz,
  updated_position text NOT NULL
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id);

-- Down Migration
DROP TABLE api_keys;
DROP TABLE account_senders;
DROP TABLE accounts;
