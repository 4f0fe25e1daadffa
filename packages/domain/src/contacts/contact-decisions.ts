// Contact commands and their pure decisions. Ids come in with the command (a fresh contact id, a command
// id from the caller's id source) and every event id derives from them, so deciding twice decides the
// same events. Addresses arrive normalised (`normaliseContactAddresses`). Who holds an address is
// decided on the address's own stream (`decideClaimAddress`); the contact decisions get what that stream
// said as `AddressHolder`, read by the caller just before. Every command names the caller's account: a
// contact of another account is `not_found`, exactly like an id nobody created.
import type { Accepted } from '../decider.ts';
import { deterministicUuid } from '../ids.ts';
import type { AddressClaim, ContactState } from './contact-state.ts';
import { type ContactEvent, type ContactEventType, contactAddressStreamId, contactStreamId } from './events.ts';

export type DecidedContactEvent<K extends ContactEventType = ContactEventType> = Extract<ContactEvent, { type: K }> & {
  id: string;
};

export type ContactRejection =
  | { ok: false; reason: 'not_found'; contactId: string }
  | { ok: false; reason: 'merged'; contactId: string; mergedInto: string }
  | { ok: false; reason: 'address_taken'; address: string; holder: string }
  | { ok: false; reason: 'no_such_address'; address: string }
  | { ok: false; reason: 'merge_into_itself' };

export type ContactDecision<K extends ContactEventType> = Accepted<DecidedContactEvent<K>> | ContactRejection;

/**
 * Who holds an address per its claim stream, and whether that holder holds nothing after all: it was
 * merged away, or it is `stranded` (the claim names a contact that never came to exist).
 */
export interface AddressHolder {
  contactId: string | null;
  mergedAway: boolean;
  stranded: boolean;
}

/**
 * A create claims its addresses before it records the contact. A claim whose contact still does not exist
 * this long after it was made belongs to a create that failed or was cut short, and holds nothing. Far
 * longer than any append may take, so a create still under way keeps what it claimed.
 */
export const strandedClaimGraceMs = 60_000;

/** `holder`: the claimed contact's state (null: never created); `at`: when the deciding command runs. */
export const isStrandedClaim = (claim: AddressClaim, holder: ContactState | null, at: string) =>
  claim.contactId !== null &&
  holder === null &&
  claim.claimedAt !== null &&
  Date.parse(at) - Date.parse(claim.claimedAt) >= strandedClaimGraceMs;

export interface CreateContact {
  type: 'CreateContact';
  data: { accountId: string; contactId: string; displayName: string | null; addresses: string[]; createdAt: string };
}
export interface RenameContact {
  type: 'RenameContact';
  data: { commandId: string; accountId: string; contactId: string; displayName: string | null; renamedAt: string };
}
export interface AddContactAddress {
  type: 'AddContactAddress';
  data: { commandId: string; accountId: string; contactId: string; address: string; addedAt: string };
}
export interface RemoveContactAddress {
  type: 'RemoveContactAddress';
  data: { commandId: string; accountId: string; contactId: string; address: string; removedAt: string };
}
/** `contactId` survives; `otherId` is merged into it. */
export interface MergeContacts {
  type: 'MergeContacts';
  data: { commandId: string; accountId: string; contactId: string; otherId: string; mergedAt: string };
}
/** Gives `address` to `contactId` (null: releases it) unless a live contact other than `from` holds it. */
export interface ClaimContactAddress {
  type: 'ClaimContactAddress';
  data: {
    commandId: string;
    accountId: string;
    address: string;
    contactId: string | null;
    from: string | null;
    claimedAt: string;
  };
}

export const contactEventId = (commandId: string, type: ContactEventType, discriminator = '') =>
  deterministicUuid('hatch.contact-event', commandId, type, discriminator);

const accept = <K extends ContactEventType>(streamId: string, events: DecidedContactEvent<K>[]) => ({
  ok: true as const,
  streamId,
  events,
});

/** The contact as a command of `accountId` may change it: it exists in that account and was not merged away. */
function live(contactId: string, state: ContactState | null, accountId: string): ContactRejection | null {
  if (!state || state.accountId !== accountId) return { ok: false, reason: 'not_found', contactId };
  if (state.mergedInto) return { ok: false, reason: 'merged', contactId, mergedInto: state.mergedInto };
  return null;
}

const heldElsewhere = (address: string, holder: AddressHolder, ...allowed: (string | null)[]) =>
  holder.contactId !== null && !allowed.includes(holder.contactId) && !holder.mergedAway && !holder.stranded
    ? ({ ok: false, reason: 'address_taken', address, holder: holder.contactId } as const)
    : null;

export function decideCreateContact(command: CreateContact): ContactDecision<'ContactCreated'> {
  const { data } = command;
  return accept(contactStreamId(data.contactId), [
    { id: contactEventId(data.contactId, 'ContactCreated'), type: 'ContactCreated', data: { ...data } },
  ]);
}

export function decideRenameContact(
  command: RenameContact,
  state: ContactState | null,
): ContactDecision<'ContactRenamed'> {
  const { commandId, ...data } = command.data;
  return (
    live(data.contactId, state, data.accountId) ??
    accept(contactStreamId(data.contactId), [
      { id: contactEventId(commandId, 'ContactRenamed'), type: 'ContactRenamed', data },
    ])
  );
}

/** Nothing to append when the contact has the address already. */
export function decideAddContactAddress(
  command: AddContactAddress,
  state: ContactState | null,
  holder: AddressHolder,
): ContactDecision<'ContactAddressAdded'> {
  const { commandId, ...data } = command.data;
  const rejection = live(data.contactId, state, data.accountId);
  if (rejection) return rejection;
  const streamId = contactStreamId(data.contactId);
  if (state?.addresses.includes(data.address)) return accept(streamId, []);
  return (
    heldElsewhere(data.address, holder, data.contactId) ??
    accept(streamId, [
      { id: contactEventId(commandId, 'ContactAddressAdded', data.address), type: 'ContactAddressAdded', data },
    ])
  );
}

export function decideRemoveContactAddress(
  command: RemoveContactAddress,
  state: ContactState | null,
): ContactDecision<'ContactAddressRemoved'> {
  const { commandId, ...data } = command.data;
  const rejection = live(data.contactId, state, data.accountId);
  if (rejection) return rejection;
  if (!state?.addresses.includes(data.address)) return { ok: false, reason: 'no_such_address', address: data.address };
  return accept(contactStreamId(data.contactId), [
    { id: contactEventId(commandId, 'ContactAddressRemoved', data.address), type: 'ContactAddressRemoved', data },
  ]);
}

/** Decided on the merged contact's stream: a concurrent change to it fails the merge instead of half-applying. */
export function decideMergeContacts(
  command: MergeContacts,
  other: ContactState | null,
  survivor: ContactState | null,
): ContactDecision<'ContactMerged'> {
  const { commandId, accountId, contactId, otherId, mergedAt } = command.data;
  if (otherId === contactId) return { ok: false, reason: 'merge_into_itself' };
  const rejection = live(contactId, survivor, accountId) ?? live(otherId, other, accountId);
  if (rejection) return rejection;
  return accept(contactStreamId(otherId), [
    {
      id: contactEventId(commandId, 'ContactMerged'),
      type: 'ContactMerged',
      data: { accountId, contactId: otherId, into: contactId, addresses: other?.addresses ?? [], mergedAt },
    },
  ]);
}

/** After a merge the survivor's own stream records the addresses it did not hold yet. */
export function decideRecordMergedAddresses(
  command: MergeContacts,
  survivor: ContactState | null,
  addresses: readonly string[],
): Accepted<DecidedContactEvent<'ContactAddressAdded'>> {
  const { commandId, accountId, contactId, mergedAt } = command.data;
  return accept(
    contactStreamId(contactId),
    addresses
      .filter((address) => !survivor?.addresses.includes(address))
      .map((address) => ({
        id: contactEventId(commandId, 'ContactAddressAdded', address),
        type: 'ContactAddressAdded' as const,
        data: { accountId, contactId, address, addedAt: mergedAt },
      })),
  );
}

/** Decided on the address's stream; nothing to append when `contactId` holds it already. */
export function decideClaimAddress(
  command: ClaimContactAddress,
  holder: AddressHolder,
): ContactDecision<'ContactAddressClaimed'> {
  const { commandId, accountId, address, contactId, from, claimedAt } = command.data;
  const streamId = contactAddressStreamId(accountId, address);
  if (holder.contactId === contactId) return accept(streamId, []);
  return (
    heldElsewhere(address, holder, from) ??
    accept(streamId, [
      {
        id: contactEventId(commandId, 'ContactAddressClaimed', `${address}\u0000${contactId ?? ''}`),
        type: 'ContactAddressClaimed',
        data: { accountId, address, contactId, claimedAt },
      },
    ])
  );
}
