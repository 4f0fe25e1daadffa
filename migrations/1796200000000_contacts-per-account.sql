-- Up Migration

-- Contacts belong to one account: the same address can be a contact of two accounts (one holder in each),
-- and consent rows belong to the account owning the sender. account_id is text like messages.client_id
-- (accounts' ids, and the deprecated API_KEYS client names in local mode).
--
-- Which account an existing row belongs to is not guessed here: the rows are dropped and the `contacts`
-- projection's checkpoint removed, so the projector rebuilds these tables from the log on its next start
-- (events from before accounts are the local account's, as everywhere). Reads of contacts wait for that
-- rebuild through read-your-writes like any projection lag.

TRUNCATE contacts, contact_addresses, contact_consents;
DELETE FROM subscription_checkpoints WHERE subscription_id = 'projection:contacts';

ALTER TABLE contacts ADD COLUMN account_id text NOT NULL CHECK (account_id <> '');
CREATE INDEX contacts_account_idx ON contacts (account_id, contact_id);

ALTER TABLE contact_addresses ADD COLUMN account_id text NOT NULL CHECK (account_id <> '');
ALTER TABLE contact_addresses DROP CONSTRAINT contact_addresses_pkey;
-- One holder per address within an account.
ALTER TABLE contact_addresses ADD PRIMARY KEY (account_id, address);
CREATE INDEX contact_addresses_address_idx ON contact_addresses (address);

ALTER TABLE contact_consents ADD COLUMN account_id text NOT NULL CHECK (account_id <> '');
ALTER TABLE contact_consents DROP CONSTRAINT contact_consents_pkey;
ALTER TABLE contact_consents ADD PRIMARY KEY (account_id, address, sender, channel);

-- Down Migration

-- Without the account an address has one holder again: rebuilt from the log the same way.
TRUNCATE contacts, contact_addresses, contact_consents;
DELETE FROM subscription_checkpoints WHERE subscription_id = 'projection:contacts';

ALTER TABLE contact_consents DROP CONSTRAINT contact_consents_pkey;
ALTER TABLE contact_consents DROP COLUMN account_id;
ALTER TABLE contact_consents ADD PRIMARY KEY (address, sender, channel);

DROP INDEX contact_addresses_address_idx;
ALTER TABLE contact_addresses DROP CONSTRAINT contact_addresses_pkey;
ALTER TABLE contact_addresses DROP COLUMN account_id;
ALTER TABLE contact_addresses ADD PRIMARY KEY (address);

DROP INDEX contacts_account_idx;
ALTER TABLE contacts DROP COLUMN account_id;
