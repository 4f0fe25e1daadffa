// Contact decisions in given / when / then form. The address holder (read from the claim stream by the
// caller) is part of the scenario where a decision depends on it.
import { describe, expect, it } from 'vitest';
import { localAccountId } from '../accounts/local-account.ts';
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
  isStrandedClaim,
  type MergeContacts,
  type RemoveContactAddress,
  type RenameContact,
  strandedClaimGraceMs,
} from './contact-decisions.ts';
import { type AddressClaim, addressHolderFold, type ContactState, contactFold } from './contact-state.ts';
import { type ContactEvent, contactAddressStreamId, contactStreamId, implicitContactId } from './events.ts';

const ada = '11111111-1111-4111-8111-111111111111';
const bob = '22222222-2222-4222-8222-222222222222';
const commandId = '33333333-3333-4333-8333-333333333333';
const phone = '+18045551234';
const mail = 'ada@example.com';
const at = '2024-11-01T14:00:00.000Z';
// Events below carry no account, as events written before accounts: they are the local account's.
const local = localAccountId;
const acme = '44444444-4444-4444-8444-444444444444';

const created = (contactId: string, addresses: string[] = []): ContactEvent => ({
  type: 'ContactCreated',
  data: { contactId, displayName: null, addresses, createdAt: at },
});
const merged = (contactId: string, into: string): ContactEvent => ({
  type: 'ContactMerged',
  data: { contactId, into, addresses: [], mergedAt: at },
});
const nobody: AddressHolder = { contactId: null, mergedAway: false, stranded: false };

describe('contact decisions', () => {
  const rename = deciderSpecification(contactFold, decideRenameContact);
  const renaming: RenameContact = {
    type: 'RenameContact',
    data: { commandId, accountId: local, contactId: ada, displayName: 'Ada', renamedAt: at },
  };

  it('renames a live contact', () => {
    rename
      .given([created(ada)])
      .when(renaming)
      .thenAppends([
        {
          id: contactEventId(commandId, 'ContactRenamed'),
          type: 'ContactRenamed',
          data: { accountId: local, contactId: ada, displayName: 'Ada', renamedAt: at },
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

  it("refuses another account's contact exactly as an unknown one, merged away or not", () => {
    const theirs: RenameContact = { type: 'RenameContact', data: { ...renaming.data, accountId: acme } };
    const notFound = { ok: false, reason: 'not_found', contactId: ada } as const;
    rename
      .given([created(ada)])
      .when(theirs)
      .thenRejects(notFound);
    rename
      .given([created(ada), merged(ada, bob)])
      .when(theirs)
      .thenRejects(notFound);
    const acmes: ContactEvent = {
      type: 'ContactCreated',
      data: { accountId: acme, contactId: ada, displayName: null, addresses: [], createdAt: at },
    };
    rename.given([acmes]).when(renaming).thenRejects(notFound);
    rename
      .given([acmes])
      .when(theirs)
      .thenAppends([{ data: { accountId: acme, contactId: ada, displayName: 'Ada', renamedAt: at } }]);
  });

  const adding = (holder: AddressHolder) =>
    deciderSpecification(contactFold, (command: AddContactAddress, state: ContactState | null) =>
      decideAddContactAddress(command, state, holder),
    );
  const add: AddContactAddress = {
    type: 'AddContactAddress',
    data: { commandId, accountId: local, contactId: ada, address: phone, addedAt: at },
  };

  it('adds an address nobody holds; nothing to do when the contact has it already', () => {
    adding(nobody)
      .given([created(ada)])
      .when(add)
      .thenAppends([
        {
          id: contactEventId(commandId, 'ContactAddressAdded', phone),
          type: 'ContactAddressAdded',
          data: { accountId: local, contactId: ada, address: phone, addedAt: at },
        },
      ]);
    adding(nobody)
      .given([created(ada, [phone])])
      .when(add)
      .thenNothing();
  });

  it('refuses an address another live contact holds, not one whose holder was merged away or never created', () => {
    adding({ contactId: bob, mergedAway: false, stranded: false })
      .given([created(ada)])
      .when(add)
      .thenRejects({ ok: false, reason: 'address_taken', address: phone, holder: bob });
    adding({ contactId: bob, mergedAway: true, stranded: false })
      .given([created(ada)])
      .when(add)
      .thenAppends([expect.objectContaining({ type: 'ContactAddressAdded' })]);
    adding({ contactId: bob, mergedAway: false, stranded: true })
      .given([created(ada)])
      .when(add)
      .thenAppends([expect.objectContaining({ type: 'ContactAddressAdded' })]);
  });

  it("does not add to (or reveal) another account's contact", () => {
    adding(nobody)
      .given([created(ada)])
      .when({ type: 'AddContactAddress', data: { ...add.data, accountId: acme } })
      .thenRejects({ ok: false, reason: 'not_found', contactId: ada });
  });

  it('removes only an address the contact has', () => {
    const remove = deciderSpecification(contactFold, decideRemoveContactAddress);
    const removing: RemoveContactAddress = {
      type: 'RemoveContactAddress',
      data: { commandId, accountId: local, contactId: ada, address: mail, removedAt: at },
    };
    remove
      .given([created(ada, [phone])])
      .when(removing)
      .thenRejects({ ok: false, reason: 'no_such_address', address: mail });
    remove
      .given([created(ada, [phone, mail])])
      .when(removing)
      .thenAppends([{ type: 'ContactAddressRemoved', data: { contactId: ada, address: mail, removedAt: at } }]);
    remove
      .given([created(ada, [phone, mail])])
      .when({ type: 'RemoveContactAddress', data: { ...removing.data, accountId: acme } })
      .thenRejects({ ok: false, reason: 'not_found', contactId: ada });
  });

  it("merges on the merged contact's stream, carrying its addresses; never into itself", () => {
    const survivor: ContactState = {
      accountId: local,
      contactId: ada,
      displayName: null,
      addresses: [],
      mergedInto: null,
    };
    const merge = deciderSpecification(contactFold, (command: MergeContacts, other: ContactState | null) =>
      decideMergeContacts(command, other, survivor),
    );
    const merging = (otherId: string): MergeContacts => ({
      type: 'MergeContacts',
      data: { commandId, accountId: local, contactId: ada, otherId, mergedAt: at },
    });
    merge
      .given([created(bob, [mail])])
      .when(merging(bob))
      .thenAppends([
        {
          id: contactEventId(commandId, 'ContactMerged'),
          type: 'ContactMerged',
          data: { accountId: local, contactId: bob, into: ada, addresses: [mail], mergedAt: at },
        },
      ]);
    merge
      .given([created(ada)])
      .when(merging(ada))
      .thenRejects({ ok: false, reason: 'merge_into_itself' });
    merge.given([]).when(merging(bob)).thenRejects({ ok: false, reason: 'not_found', contactId: bob });
    // Across accounts: the other contact is not found, whichever side is the caller's.
    const acmes: ContactEvent = {
      type: 'ContactCreated',
      data: { accountId: acme, contactId: bob, displayName: null, addresses: [mail], createdAt: at },
    };
    merge.given([acmes]).when(merging(bob)).thenRejects({ ok: false, reason: 'not_found', contactId: bob });
    merge
      .given([acmes])
      .when({ type: 'MergeContacts', data: { ...merging(bob).data, accountId: acme } })
      .thenRejects({ ok: false, reason: 'not_found', contactId: ada });
  });
});

describe('address claims (decided on the address stream)', () => {
  const claimed = (contactId: string | null): ContactEvent => ({
    type: 'ContactAddressClaimed',
    data: { address: phone, contactId, claimedAt: at },
  });
  const claiming = (contactId: string | null, from: string | null = null): ClaimContactAddress => ({
    type: 'ClaimContactAddress',
    data: { commandId, accountId: local, address: phone, contactId, from, claimedAt: at },
  });
  // The holder's merged-away and stranded flags come from the holder's own stream, read by the caller.
  const claim = (mergedAway = false, stranded = false) =>
    deciderSpecification(addressHolderFold, (command: ClaimContactAddress, holder: AddressClaim) =>
      decideClaimAddress(command, { contactId: holder.contactId, mergedAway, stranded }),
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
    claim(false, true)
      .given([claimed(ada)])
      .when(claiming(bob))
      .thenAppends([expect.objectContaining({ data: expect.objectContaining({ contactId: bob }) })]);
  });

  it('a claim is stranded once its contact still does not exist after the grace period', () => {
    const claim: AddressClaim = { contactId: ada, claimedAt: at };
    const later = (ms: number) => new Date(Date.parse(at) + ms).toISOString();
    expect(isStrandedClaim(claim, null, later(strandedClaimGraceMs - 1))).toBe(false);
    expect(isStrandedClaim(claim, null, later(strandedClaimGraceMs))).toBe(true);
    const exists: ContactState = {
      accountId: local,
      contactId: ada,
      displayName: null,
      addresses: [],
      mergedInto: null,
    };
    expect(isStrandedClaim(claim, exists, later(strandedClaimGraceMs))).toBe(false);
    expect(isStrandedClaim({ contactId: null, claimedAt: at }, null, later(strandedClaimGraceMs))).toBe(false);
  });
});

describe('ids per account', () => {
  it("keeps the local account's ids as they were before accounts, and derives other accounts' apart", () => {
    // The values written before accounts existed (deterministicUuid over the address alone).
    expect(contactAddressStreamId(local, phone)).toBe('contactaddress-6a160575-9781-5e57-9d08-f39376d6d078');
    expect(implicitContactId(local, phone)).toBe('a046863a-f03b-5605-b146-ca7fbb8b6436');
    expect(contactAddressStreamId(acme, phone)).not.toBe(contactAddressStreamId(local, phone));
    expect(implicitContactId(acme, phone)).not.toBe(implicitContactId(local, phone));
    expect(contactStreamId(ada)).toBe(`contact-${ada}`);
  });
});
