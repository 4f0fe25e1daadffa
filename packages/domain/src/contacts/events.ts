// Contacts unified across channels. A contact has a display name and any number of phone numbers and
// email addresses. Streams: `contact-<contactId>` (the contact's own facts) and
// `contactaddress-<uuid of the address>` (who holds an address: appended with an expected version, so an
// address belongs to at most one contact even under concurrent commands).
//
// Every message's counterpart resolves to a contact: an address no contact holds belongs to its implicit
// contact, whose id derives from the address (`implicitContactId`) — created by the projection on first
// contact, the same on every rebuild.
//
// Contacts belong to one account: an address is held by at most one contact *per account* (the same
// number can be a contact of two customers). Events carry `accountId` since accounts exist; events
// without one came from the one implicit customer (`contactAccountOf`: the local account). The local
// account's claim streams and implicit contact ids are derived exactly as before accounts, so the log
// written then stays valid.
import { z } from 'zod';
import { accountOrLocal, localAccountId } from '../accounts/local-account.ts';
import { deterministicUuid } from '../ids.ts';

const isoTimestamp = z.iso.datetime({ offset: true });
const address = z.string().min(1);
/** Absent on events written before accounts: the local account's (`contactAccountOf`). */
const accountId = z.string().min(1).optional();

export const contactEventSchemas = {
  ContactCreated: z.object({
    accountId,
    contactId: z.uuid(),
    displayName: z.string().nullable(),
    addresses: z.array(address),
    createdAt: isoTimestamp,
  }),
  ContactRenamed: z.object({
    accountId,
    contactId: z.uuid(),
    displayName: z.string().nullable(),
    renamedAt: isoTimestamp,
  }),
  ContactAddressAdded: z.object({ accountId, contactId: z.uuid(), address, addedAt: isoTimestamp }),
  ContactAddressRemoved: z.object({ accountId, contactId: z.uuid(), address, removedAt: isoTimestamp }),
  /** On the merged contact's stream: its addresses now belong to `into`; its history stays reachable there. */
  ContactMerged: z.object({
    accountId,
    contactId: z.uuid(),
    into: z.uuid(),
    addresses: z.array(address),
    mergedAt: isoTimestamp,
  }),
  /** On an address stream: who holds it now (null: released). */
  ContactAddressClaimed: z.object({ accountId, address, contactId: z.uuid().nullable(), claimedAt: isoTimestamp }),
} as const;

export type ContactEventType = keyof typeof contactEventSchemas;
export type ContactEvent = {
  [K in ContactEventType]: { type: K; data: z.infer<(typeof contactEventSchemas)[K]> };
}[ContactEventType];

export const isContactEventType = (type: string): type is ContactEventType => type in contactEventSchemas;

export function parseContactEvent(type: string, data: unknown): ContactEvent {
  if (!isContactEventType(type)) throw new TypeError(`unknown contact event type ${type}`);
  return { type, data: contactEventSchemas[type].parse(data) } as ContactEvent;
}

export const contactStreamId = (contactId: string) => `contact-${contactId}`;
/** The account a contact event belongs to (events without one: the local account). */
export const contactAccountOf = accountOrLocal;

/** The local account's ids take no account part: they are the ids written before accounts existed. */
const perAccount = (namespace: string, account: string, address: string) =>
  account === localAccountId ? deterministicUuid(namespace, address) : deterministicUuid(namespace, account, address);

/** Who holds `address` within the account. */
export const contactAddressStreamId = (account: string, address: string) =>
  `contactaddress-${perAccount('hatch.contact-address', account, address)}`;

/** The account's contact an address belongs to until a command gives it to another one. */
export const implicitContactId = (account: string, address: string) =>
  perAccount('hatch.implicit-contact', account, address);

/** An address is an email when it has an @ (addresses are stored normalised). */
export const addressKind = (address: string): 'email' | 'phone' => (address.includes('@') ? 'email' : 'phone');
