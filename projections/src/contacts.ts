// `contacts`, `contact_addresses`, `contact_consents`: who the people behind the addresses are, and
// whether they accept messages from each sender. Every message's counterpart (the recipient of a send,
// the sender of an inbound message) resolves to a contact: an address no contact holds is given to its
// implicit contact (`implicitContactId(address)`), created here on first contact — deterministic, so a
// rebuild creates the same ones. Contact commands (create, rename, add/remove address, merge) move
// addresses between contacts; a merged contact keeps its row with `merged_into`, and its conversations
// stay reachable through the addresses the survivor now holds.
//
// Everything is per account: an address is held by one contact in each account (the same number can be a
// contact of two customers), a message's counterpart resolves within the message's account, a consent
// row belongs to the account owning the sender. Events from before accounts are the local account's.
import { addressKind, consentAccountOf, contactAccountOf, implicitContactId, messageAccountOf } from '@hatch/domain';
import type { Queryable } from '@hatch/event-store';
import { occurredAt } from './messages.ts';
import type { ProjectedDomainEvent, Projection } from './projection.ts';
import { qualified, upsertRowsSql as upsertSql } from './sql.ts';

export interface ContactRow {
  account_id: string;
  contact_id: string;
  display_name: string | null;
  origin: 'explicit' | 'implicit';
  merged_into: string | null;
  created_at: string;
  updated_position: string;
}

export interface ContactAddressRow {
  account_id: string;
  address: string;
  contact_id: string;
  kind: 'phone' | 'email';
  added_at: string;
  updated_position: string;
}

export interface ContactConsentRow {
  account_id: string;
  address: string;
  sender: string;
  channel: 'sms' | 'email';
  opted_out: boolean;
  source: string;
  keyword: string | null;
  changed_at: string;
  updated_position: string;
}

/** What a batch folds over: the rows it touches, as loaded; null marks an address nobody holds. Addresses
 * and consents are keyed by `addressKey` / `consentKey` (both include the account). */
export interface ContactsState {
  contacts: Map<string, ContactRow>;
  addresses: Map<string, ContactAddressRow | null>;
  consents: Map<string, ContactConsentRow>;
  dirtyContacts: Set<string>;
  dirtyAddresses: Set<string>;
  dirtyConsents: Set<string>;
}

/** An address within an account. */
export const addressKey = (account: string, address: string) => `${account}\u0000${address}`;

const splitAddressKey = (key: string) => {
  const at = key.indexOf('\u0000');
  return { account: key.slice(0, at), address: key.slice(at + 1) };
};

export const consentKey = (account: string, address: string, sender: string, channel: string) =>
  `${account}\u0000${address}\u0000${sender}\u0000${channel}`;

export function emptyContactsState(): ContactsState {
  return {
    contacts: new Map(),
    addresses: new Map(),
    consents: new Map(),
    dirtyContacts: new Set(),
    dirtyAddresses: new Set(),
    dirtyConsents: new Set(),
  };
}

/** Whom an event is about that must resolve to a contact (in which account): a message's counterpart, a consent's contact. */
export function counterpartOf(
  event: ProjectedDomainEvent['event'],
): { account: string; address: string; at: string } | null {
  if (event.type === 'MessageRequested')
    return { account: messageAccountOf(event.data), address: event.data.to, at: occurredAt(event) };
  if (event.type === 'MessageReceived')
    return { account: messageAccountOf(event.data), address: event.data.from, at: occurredAt(event) };
  if (event.type === 'ContactOptedOut' || event.type === 'ContactOptedIn')
    return { account: consentAccountOf(event.data), address: event.data.address, at: event.data.changedAt };
  return null;
}

/** Addresses and contacts a batch needs loaded before folding. */
export function touchedBy(events: readonly ProjectedDomainEvent[]) {
  const addresses = new Set<string>();
  const contacts = new Set<string>();
  for (const { event } of events) {
    const counterpart = counterpartOf(event);
    if (counterpart) addresses.add(addressKey(counterpart.account, counterpart.address));
    switch (event.type) {
      case 'ContactCreated':
        contacts.add(event.data.contactId);
        for (const a of event.data.addresses) addresses.add(addressKey(contactAccountOf(event.data), a));
        break;
      case 'ContactRenamed':
        contacts.add(event.data.contactId);
        break;
      case 'ContactAddressAdded':
      case 'ContactAddressRemoved':
        contacts.add(event.data.contactId);
        addresses.add(addressKey(contactAccountOf(event.data), event.data.address));
        break;
      case 'ContactMerged':
        contacts.add(event.data.contactId);
        contacts.add(event.data.into);
        for (const a of event.data.addresses) addresses.add(addressKey(contactAccountOf(event.data), a));
        break;
      default:
        break;
    }
  }
  for (const key of addresses) {
    const { account, address } = splitAddressKey(key);
    contacts.add(implicitContactId(account, address));
  }
  return { addresses, contacts };
}

function touchContact(state: ContactsState, row: ContactRow) {
  state.contacts.set(row.contact_id, row);
  state.dirtyContacts.add(row.contact_id);
}

/** Gives `address` to `contactId` within `account`. An implicit contact losing the address it was made for is merged away. */
function assign(
  state: ContactsState,
  account: string,
  address: string,
  contactId: string,
  at: string,
  position: string,
) {
  const key = addressKey(account, address);
  const previous = state.addresses.get(key) ?? null;
  if (previous?.contact_id === contactId) return;
  state.addresses.set(key, {
    account_id: account,
    address,
    contact_id: contactId,
    kind: addressKind(address),
    added_at: at,
    updated_position: position,
  });
  state.dirtyAddresses.add(key);
  if (previous && previous.contact_id === implicitContactId(account, address)) {
    const implicit = state.contacts.get(previous.contact_id);
    if (implicit?.origin === 'implicit')
      touchContact(state, { ...implicit, merged_into: contactId, updated_position: position });
  }
}

/** Pure: folds one event into the state (rows it changes are marked dirty). */
export function evolveContacts(state: ContactsState, projected: ProjectedDomainEvent): void {
  const { event, position } = projected;
  const counterpart = counterpartOf(event);
  if (counterpart && !state.addresses.get(addressKey(counterpart.account, counterpart.address))) {
    // First contact: the address's implicit contact in the account holds it (revived if it had been merged away).
    const { account, address, at } = counterpart;
    const id = implicitContactId(account, address);
    const existing = state.contacts.get(id);
    if (!existing)
      touchContact(state, {
        account_id: account,
        contact_id: id,
        display_name: null,
        origin: 'implicit',
        merged_into: null,
        created_at: at,
        updated_position: position,
      });
    else if (existing.merged_into !== null)
      touchContact(state, { ...existing, merged_into: null, updated_position: position });
    assign(state, account, address, id, at, position);
  }
  switch (event.type) {
    case 'ContactCreated': {
      const d = event.data;
      touchContact(state, {
        account_id: contactAccountOf(d),
        contact_id: d.contactId,
        display_name: d.displayName,
        origin: 'explicit',
        merged_into: null,
        created_at: d.createdAt,
        updated_position: position,
      });
      for (const a of d.addresses) assign(state, contactAccountOf(d), a, d.contactId, d.createdAt, position);
      break;
    }
    case 'ContactRenamed': {
      const row = state.contacts.get(event.data.contactId);
      if (row) touchContact(state, { ...row, display_name: event.data.displayName, updated_position: position });
      break;
    }
    case 'ContactAddressAdded':
      assign(
        state,
        contactAccountOf(event.data),
        event.data.address,
        event.data.contactId,
        event.data.addedAt,
        position,
      );
      break;
    case 'ContactAddressRemoved': {
      const key = addressKey(contactAccountOf(event.data), event.data.address);
      const held = state.addresses.get(key);
      if (held?.contact_id === event.data.contactId) {
        state.addresses.set(key, null);
        state.dirtyAddresses.add(key);
      }
      break;
    }
    case 'ContactMerged': {
      const d = event.data;
      for (const a of d.addresses) assign(state, contactAccountOf(d), a, d.into, d.mergedAt, position);
      const merged = state.contacts.get(d.contactId);
      if (merged) touchContact(state, { ...merged, merged_into: d.into, updated_position: position });
      break;
    }
    case 'ContactOptedOut':
    case 'ContactOptedIn': {
      const d = event.data;
      const account = consentAccountOf(d);
      const key = consentKey(account, d.address, d.sender, d.channel);
      state.consents.set(key, {
        account_id: account,
        address: d.address,
        sender: d.sender,
        channel: d.channel,
        opted_out: event.type === 'ContactOptedOut',
        source: d.source,
        keyword: d.keyword,
        changed_at: d.changedAt,
        updated_position: position,
      });
      state.dirtyConsents.add(key);
      break;
    }
    default:
      break;
  }
}

const contactColumns = [
  'account_id',
  'contact_id',
  'display_name',
  'origin',
  'merged_into',
  'created_at',
  'updated_position',
];
const addressColumns = ['account_id', 'address', 'contact_id', 'kind', 'added_at', 'updated_position'];
const consentColumns = [
  'account_id',
  'address',
  'sender',
  'channel',
  'opted_out',
  'source',
  'keyword',
  'changed_at',
  'updated_position',
];

export const contactsProjection: Projection = {
  name: 'contacts',
  tables: ['contacts', 'contact_addresses', 'contact_consents'],
  async apply(db: Queryable, schema: string, _messages, events) {
    if (events.length === 0) return;
    const touched = touchedBy(events);
    const state = emptyContactsState();
    if (touched.addresses.size > 0) {
      const keys = [...touched.addresses].map(splitAddressKey);
      const { rows } = await db.query(
        `SELECT row_to_json(t) AS row FROM ${qualified(schema, 'contact_addresses')} t
          WHERE (account_id, address) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [keys.map((k) => k.account), keys.map((k) => k.address)],
      );
      for (const r of rows) {
        const row = r.row as ContactAddressRow;
        state.addresses.set(addressKey(row.account_id, row.address), row);
        touched.contacts.add(row.contact_id);
      }
    }
    if (touched.contacts.size > 0) {
      const { rows } = await db.query(
        `SELECT row_to_json(t) AS row FROM ${qualified(schema, 'contacts')} t WHERE contact_id = ANY($1::uuid[])`,
        [[...touched.contacts]],
      );
      for (const r of rows) {
        const row = r.row as ContactRow;
        state.contacts.set(row.contact_id, row);
      }
    }
    for (const e of events) evolveContacts(state, e);

    const pick = <T>(map: Map<string, T | null>, keys: Set<string>) =>
      [...keys].map((k) => map.get(k)).filter((r): r is T => r !== null && r !== undefined);
    const contacts = pick(state.contacts, state.dirtyContacts);
    if (contacts.length > 0)
      await db.query(upsertSql(schema, 'contacts', contactColumns, ['contact_id']), [JSON.stringify(contacts)]);
    const held = pick(state.addresses, state.dirtyAddresses);
    const released = [...state.dirtyAddresses].filter((a) => state.addresses.get(a) === null).map(splitAddressKey);
    if (released.length > 0)
      await db.query(
        `DELETE FROM ${qualified(schema, 'contact_addresses')}
          WHERE (account_id, address) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [released.map((k) => k.account), released.map((k) => k.address)],
      );
    if (held.length > 0)
      await db.query(upsertSql(schema, 'contact_addresses', addressColumns, ['account_id', 'address']), [
        JSON.stringify(held),
      ]);
    const consents = pick(state.consents, state.dirtyConsents);
    if (consents.length > 0)
      await db.query(
        upsertSql(schema, 'contact_consents', consentColumns, ['account_id', 'address', 'sender', 'channel']),
        [JSON.stringify(consents)],
      );
  },
};
