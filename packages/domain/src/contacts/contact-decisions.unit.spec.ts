// Contact decisions in given / when / then form. The address holder (read from the claim stream by the
// caller) is part of the scenario where a decision depends on it.
import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../testing/decider-specification.ts';
import {
  type AddContactAddress,
  type AddressHolder,
  type ClaimContactAddress,
  contactEventId,
  decideAddContactAddress,
  decideClaimAddress,
  decideMergeContacts,
  decideRemoveContactAddress,
  decideRenameContact,
  type MergeContacts,
  type RemoveContactAddress,
  type RenameContact,
} from './contact-decisions.ts';
import { addressHolderFold, type ContactState, contactFold } from './contact-state.ts';
import type { ContactEvent } from './events.ts';

const ada = '11111111-1111-4111-8111-111111111111';
const bob = '22222222-2222-4222-8222-222222222222';
const commandId = '33333333-3333-4333-8333-333333333333';
const phone = '+18045551234';
const mail = 'ada@example.com';
const at = '2024-11-01T14:00:00.000Z';

const created = (contactId: string, addresses: string[] = []): ContactEvent => ({
  type: 'ContactCreated',
  data: { contactId, displayName: null, addresses, createdAt: at },
});
const merged = (contactId: string, into: string): ContactEvent => ({
  type: 'ContactMerged',
  data: { contactId, into, addresses: [], mergedAt: at },
});
const nobody: AddressHolder = { contactId: null, mergedAway: false };

describe('contact decisions', () => {
  const rename = deciderSpecification(contactFold, decideRenameContact);
  const renaming: RenameContact = {
    type: 'RenameContact',
    data: { commandId, contactId: ada, displayName: 'Ada', renamedAt: at },
  };

  it('renames a live contact', () => {
    rename
      .given([created(ada)])
      .when(renaming)
      .thenAppends([
        {
          id: contactEventId(commandId, 'ContactRenamed'),
          type: 'ContactRenamed',
          data: { contactId: ada, displayName: 'Ada', renamedAt: at },
        },
      ]);
  });

  it('refuses an unknown contact and one merged away', () => {
    rename.given([]).when(renaming).thenRejects({ ok: false, reason: 'not_found', contactId: ada });
    rename
      .given([created(ada), merged(ada, bob)])
      .when(renaming)
      .thenRejects({ ok: false, reason: 'merged', contactId: ada, mergedInto: bob });
  });

  const adding = (holder: AddressHolder) =>
    deciderSpecification(contactFold, (command: AddContactAddress, state: ContactState | null) =>
      decideAddContactAddress(command, state, holder),
    );
  const add: AddContactAddress = {
    type: 'AddContactAddress',
    data: { commandId, contactId: ada, address: phone, addedAt: at },
  };

  it('adds an address nobody holds; nothing to do when the contact has it already', () => {
    adding(nobody)
      .given([created(ada)])
      .when(add)
      .thenAppends([
        {
          id: contactEventId(commandId, 'ContactAddressAdded', phone),
          type: 'ContactAddressAdded',
          data: { contactId: ada, address: phone, addedAt: at },
        },
      ]);
    adding(nobody)
      .given([created(ada, [phone])])
      .when(add)
      .thenNothing();
  });

  it('refuses an address another live contact holds, not one whose holder was merged away', () => {
    adding({ contactId: bob, mergedAway: false })
      .given([created(ada)])
      .when(add)
      .thenRejects({ ok: false, reason: 'address_taken', address: phone, holder: bob });
    adding({ contactId: bob, mergedAway: true })
      .given([created(ada)])
      .when(add)
      .thenAppends([expect.objectContaining({ type: 'ContactAddressAdded' })]);
  });

  it('removes only an address the contact has', () => {
    const remove = deciderSpecification(contactFold, decideRemoveContactAddress);
    const removing: RemoveContactAddress = {
      type: 'RemoveContactAddress',
      data: { commandId, contactId: ada, address: mail, removedAt: at },
    };
    remove
      .given([created(ada, [phone])])
      .when(removing)
      .thenRejects({ ok: false, reason: 'no_such_address', address: mail });
    remove
      .given([created(ada, [phone, mail])])
      .when(removing)
      .thenAppends([{ type: 'ContactAddressRemoved', data: { contactId: ada, address: mail, removedAt: at } }]);
  });

  it("merges on the merged contact's stream, carrying its addresses; never into itself", () => {
    const survivor: ContactState = { contactId: ada, displayName: null, addresses: [], mergedInto: null };
    const merge = deciderSpecification(contactFold, (command: MergeContacts, other: ContactState | null) =>
      decideMergeContacts(command, other, survivor),
    );
    const merging = (otherId: string): MergeContacts => ({
      type: 'MergeContacts',
      data: { commandId, contactId: ada, otherId, mergedAt: at },
    });
    merge
      .given([created(bob, [mail])])
      .when(merging(bob))
      .thenAppends([
        {
          id: contactEventId(commandId, 'ContactMerged'),
          type: 'ContactMerged',
          data: { contactId: bob, into: ada, addresses: [mail], mergedAt: at },
        },
      ]);
    merge
      .given([created(ada)])
      .when(merging(ada))
      .thenRejects({ ok: false, reason: 'merge_into_itself' });
    merge.given([]).when(merging(bob)).thenRejects({ ok: false, reason: 'not_found', contactId: bob });
  });
});

describe('address claims (decided on the address stream)', () => {
  const claimed = (contactId: string | null): ContactEvent => ({
    type: 'ContactAddressClaimed',
    data: { address: phone, contactId, claimedAt: at },
  });
  const claiming = (contactId: string | null, from: string | null = null): ClaimContactAddress => ({
    type: 'ClaimContactAddress',
    data: { commandId, address: phone, contactId, from, claimedAt: at },
  });
  // The holder's merged-away flag comes from the holder's own stream, read by the caller.
  const claim = (mergedAway = false) =>
    deciderSpecification(addressHolderFold, (command: ClaimContactAddress, holder: string | null) =>
      decideClaimAddress(command, { contactId: holder, mergedAway }),
    );

  it('claims an unheld address, and is a no-op for its holder', () => {
    claim()
      .given([])
      .when(claiming(ada))
      .thenAppends([
        {
          id: contactEventId(commandId, 'ContactAddressClaimed', `${phone}\u0000${ada}`),
          type: 'ContactAddressClaimed',
          data: { address: phone, contactId: ada, claimedAt: at },
        },
      ]);
    claim()
      .given([claimed(ada)])
      .when(claiming(ada))
      .thenNothing();
  });

  it('lets the holder (`from`) release or pass it on; refuses anyone else while the holder is live', () => {
    claim()
      .given([claimed(ada)])
      .when(claiming(null, ada))
      .thenAppends([{ type: 'ContactAddressClaimed', data: { address: phone, contactId: null, claimedAt: at } }]);
    claim()
      .given([claimed(ada)])
      .when(claiming(bob))
      .thenRejects({ ok: false, reason: 'address_taken', address: phone, holder: ada });
    claim(true)
      .given([claimed(ada)])
      .when(claiming(bob))
      .thenAppends([expect.objectContaining({ data: expect.objectContaining({ contactId: bob }) })]);
  });
});
