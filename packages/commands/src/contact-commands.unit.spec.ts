// Contact commands across their streams on the in-memory event log: the contact's stream is written first
// at the version read, so a concurrent change answers a conflict with nothing written anywhere.
import {
  contactAddressStreamId,
  contactStreamId,
  currentSchemaVersion,
  localAccountId,
  strandedClaimGraceMs,
} from '@hatch/domain';
import { InMemoryEventStore } from '@hatch/event-store';
import { describe, expect, it } from 'vitest';
import { contactCommands } from './contact-commands.ts';
import type { CommandLog } from './handle-command.ts';

const ada = '11111111-1111-4111-8111-111111111111';
const bob = '22222222-2222-4222-8222-222222222222';
const phone = '+18045551234';
const at = '2024-11-01T14:00:00.000Z';
const metadata = { correlationId: 'req', causationId: null, actor: 'acme' };
const accountId = localAccountId;
const acme = '44444444-4444-4444-8444-444444444444';
const later = (ms: number) => new Date(Date.parse(at) + ms).toISOString();

describe('contact commands', () => {
  it('gives an address to one contact only, and gives back what a refused create took', async () => {
    const store = new InMemoryEventStore();
    const contacts = contactCommands(store);
    const first = await contacts.create(
      { accountId, contactId: ada, displayName: 'Ada', addresses: [phone], createdAt: at },
      metadata,
    );
    expect(first).toMatchObject({ ok: true, contact: { accountId, contactId: ada, addresses: [phone] } });
    const second = await contacts.create(
      { accountId, contactId: bob, displayName: null, addresses: ['bob@example.com', phone], createdAt: at },
      metadata,
    );
    expect(second).toEqual({ ok: false, reason: 'address_taken', address: phone, holder: ada });
    // bob's first claim was released again, and bob was never created.
    const released = await store.readStream(contactAddressStreamId(accountId, 'bob@example.com'));
    expect(released.map((e) => (e.data as { contactId: string | null }).contactId)).toEqual([bob, null]);
    expect(await store.readStream(contactStreamId(bob))).toEqual([]);
    expect(released[0]?.metadata).toEqual({ ...metadata, schemaVersion: currentSchemaVersion });
  });

  it('decides an added address again after a concurrent change to the contact, and records it once', async () => {
    const store = new InMemoryEventStore();
    const contacts = contactCommands(store);
    await contacts.create({ accountId, contactId: ada, displayName: null, addresses: [], createdAt: at }, metadata);
    let raced = false;
    // Someone renames Ada between this command's read and its append to her stream.
    const racing: CommandLog = {
      readStream: (streamId, options) => store.readStream(streamId, options),
      append: async (streamId, events, expected) => {
        if (!raced && streamId === contactStreamId(ada)) {
          raced = true;
          await contacts.rename(
            { commandId: bob, accountId, contactId: ada, displayName: 'Ada', renamedAt: at },
            metadata,
          );
        }
        return store.append(streamId, events, expected);
      },
    };
    const outcome = await contactCommands(racing).addAddress(
      { commandId: ada, accountId, contactId: ada, address: phone, addedAt: at },
      metadata,
    );
    expect(outcome).toMatchObject({
      ok: true,
      contact: { accountId, contactId: ada, displayName: 'Ada', addresses: [phone] },
    });
    expect(raced).toBe(true);
    const claims = await store.readStream(contactAddressStreamId(accountId, phone));
    expect(claims.map((e) => (e.data as { contactId: string | null }).contactId)).toEqual([ada]);
    expect((await store.readStream(contactStreamId(ada))).map((e) => e.type)).toEqual([
      'ContactCreated',
      'ContactRenamed',
      'ContactAddressAdded',
    ]);
  });

  it('answers an address claimed meanwhile by another contact as a conflict, with nothing written', async () => {
    const store = new InMemoryEventStore();
    const contacts = contactCommands(store);
    await contacts.create({ accountId, contactId: ada, displayName: null, addresses: [], createdAt: at }, metadata);
    await contacts.create({ accountId, contactId: bob, displayName: null, addresses: [], createdAt: at }, metadata);
    let raced = false;
    // Bob takes the address between Ada's read of its claim stream and her claim.
    const racing: CommandLog = {
      readStream: (streamId, options) => store.readStream(streamId, options),
      append: async (streamId, events, expected) => {
        if (!raced && streamId === contactAddressStreamId(accountId, phone)) {
          raced = true;
          await contacts.addAddress(
            { commandId: bob, accountId, contactId: bob, address: phone, addedAt: at },
            metadata,
          );
        }
        return store.append(streamId, events, expected);
      },
    };
    const outcome = await contactCommands(racing).addAddress(
      { commandId: ada, accountId, contactId: ada, address: phone, addedAt: at },
      metadata,
    );
    expect(outcome).toEqual({ ok: false, reason: 'claim_conflict', address: phone });
    expect((await store.readStream(contactStreamId(ada))).map((e) => e.type)).toEqual(['ContactCreated']);
    const claims = await store.readStream(contactAddressStreamId(accountId, phone));
    expect(claims.map((e) => (e.data as { contactId: string | null }).contactId)).toEqual([bob]);
  });

  it('one address is a contact in each account, and no command reaches across accounts', async () => {
    const store = new InMemoryEventStore();
    const contacts = contactCommands(store);
    const ours = await contacts.create(
      { accountId, contactId: ada, displayName: 'Ada', addresses: [phone], createdAt: at },
      metadata,
    );
    const theirs = await contacts.create(
      { accountId: acme, contactId: bob, displayName: 'Ada (Acme)', addresses: [phone], createdAt: at },
      metadata,
    );
    expect(ours).toMatchObject({ ok: true, contact: { accountId, addresses: [phone] } });
    expect(theirs).toMatchObject({ ok: true, contact: { accountId: acme, addresses: [phone] } });
    const holders = async (account: string) =>
      (await store.readStream(contactAddressStreamId(account, phone))).map(
        (e) => (e.data as { contactId: string }).contactId,
      );
    expect(await holders(accountId)).toEqual([ada]);
    expect(await holders(acme)).toEqual([bob]);

    const notFound = { ok: false, reason: 'not_found', contactId: bob };
    const before = (await store.readStream(contactStreamId(bob))).length;
    expect(
      await contacts.rename({ commandId: ada, accountId, contactId: bob, displayName: 'x', renamedAt: at }, metadata),
    ).toEqual(notFound);
    expect(
      await contacts.addAddress(
        { commandId: ada, accountId, contactId: bob, address: 'b@example.com', addedAt: at },
        metadata,
      ),
    ).toEqual(notFound);
    expect(
      await contacts.removeAddress(
        { commandId: ada, accountId, contactId: bob, address: phone, removedAt: at },
        metadata,
      ),
    ).toEqual(notFound);
    expect(
      await contacts.merge({ commandId: ada, accountId, contactId: ada, otherId: bob, mergedAt: at }, metadata),
    ).toEqual(notFound);
    expect(
      await contacts.merge({ commandId: ada, accountId: acme, contactId: bob, otherId: ada, mergedAt: at }, metadata),
    ).toEqual({ ok: false, reason: 'not_found', contactId: ada });
    expect(await store.readStream(contactStreamId(bob))).toHaveLength(before);
    expect(await holders(acme)).toEqual([bob]);
  });

  it('a create that fails after claiming gives its addresses back, and a claim left behind frees itself', async () => {
    const store = new InMemoryEventStore();
    // The log refuses the contact's own stream: the create fails after its claims were written.
    const failing: CommandLog = {
      readStream: (streamId, options) => store.readStream(streamId, options),
      append: async (streamId, events, expected) => {
        if (streamId.startsWith('contact-')) throw new Error('the event log is unavailable');
        return store.append(streamId, events, expected);
      },
    };
    await expect(
      contactCommands(failing).create(
        { accountId, contactId: ada, displayName: null, addresses: [phone], createdAt: at },
        metadata,
      ),
    ).rejects.toThrow('unavailable');
    const contacts = contactCommands(store);
    const retried = await contacts.create(
      { accountId, contactId: bob, displayName: null, addresses: [phone], createdAt: at },
      metadata,
    );
    expect(retried).toMatchObject({ ok: true, contact: { contactId: bob, addresses: [phone] } });

    // The give-back fails too (the log went away for good, or the process stopped): the claim stays behind.
    const stranded = '55555555-5555-4555-8555-555555555555';
    const mail = 'cut@example.com';
    const dead: CommandLog = {
      readStream: (streamId, options) => store.readStream(streamId, options),
      append: async (streamId, events, expected) => {
        if (
          !streamId.startsWith('contactaddress-') ||
          (events[0]?.data as { contactId?: unknown } | undefined)?.contactId === null
        )
          throw new Error('the event log is unavailable');
        return store.append(streamId, events, expected);
      },
    };
    await expect(
      contactCommands(dead).create(
        { accountId, contactId: stranded, displayName: null, addresses: [mail], createdAt: at },
        metadata,
      ),
    ).rejects.toThrow('unavailable');
    const create = (createdAt: string) =>
      contacts.create(
        { accountId, contactId: crypto.randomUUID(), displayName: null, addresses: [mail], createdAt },
        metadata,
      );
    // Within the grace period it may still be a create under way; after it, the claim holds nothing.
    expect(await create(later(strandedClaimGraceMs - 1000))).toMatchObject({
      ok: false,
      reason: 'address_taken',
      holder: stranded,
    });
    expect(await create(later(strandedClaimGraceMs))).toMatchObject({ ok: true, contact: { addresses: [mail] } });
    expect(
      await contacts.addAddress(
        { commandId: ada, accountId, contactId: bob, address: mail, addedAt: later(strandedClaimGraceMs) },
        metadata,
      ),
    ).toMatchObject({ ok: false, reason: 'address_taken' });
  });
});
