-- Up Migration

-- Contacts and consent, derived from the log by the `contacts` projection (projections/src/contacts.ts).

-- One row per contact: explicit ones (ContactCreated) and implicit ones (an address seen in a message that
-- no contact holds; the id derives from the address). A merged contact keeps its row, pointing at the survivor.
CREATE TABLE contacts (
  contact_id uuid PRIMARY KEY,
  display_name text,
  -- explicit: created by a command; implicit: created on first contact by the projection
  origin text NOT NULL CHECK (origin IN ('explicit', 'implicit')),
  merged_into uuid,
  created_at timestamptz NOT NULL,
  updated_position text NOT NULL
);
CREATE INDEX contacts_name_idx ON contacts (lower(display_name)) WHERE display_name IS NOT NULL;

-- Who holds each address now (at most one contact: the primary key).
CREATE TABLE contact_addresses (
  address text PRIMARY KEY CHECK (address <> ''),
  contact_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('phone', 'email')),
  added_at timestamptz NOT NULL,
  updated_position text NOT NULL
);
CREATE INDEX contact_addresses_contact_idx ON contact_addresses (contact_id);

-- Consent per (contact address, our sender, channel family): the latest change.
CREATE TABLE contact_consents (
  address text NOT NULL,
  sender text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('sms', 'email')),
  opted_out boolean NOT NULL,
  source text NOT NULL,
  keyword text,
  changed_at timestamptz NOT NULL,
  updated_position text NOT NULL,
  PRIMARY KEY (address, sender, channel)
);

-- Down Migration
DROP TABLE contact_consents;
DROP TABLE contact_addresses;
DROP TABLE contacts;
