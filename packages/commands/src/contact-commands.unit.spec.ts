// Contact commands across their streams on the in-memory event log: the contact's stream is written first
// at the version read, so a concurrent change answers a conflict with nothing written anywhere.
import { contactAddressStreamId, contactStreamId, currentSchemaVersion } from '@hatch/domain';
import { InMemoryEventStore } from '@hatch/event-store';
import { describe, expect, it } from 'vitest';
import { contactCommands } from './contact-commands.ts';
import type { CommandLog } from './handle-command.ts';

const ada = '11111111-1111-4111-8111-111111111111';
const bob = '22222222-2222-4222-8222-222222222222';
const phone = '+18045551234';
const at = '2024-11-01T14:00:00.000Z';
const metadata = { correlationId: 'req', causationId: null, actor: 'acme' };

describe('contact commands', () => {
  it('gives an address to one contact only, and gives back what a refused create took', async () => {
    const store = new InMemoryEventStore();
    const contacts = contactCommands(store);
    const first = await contacts.create(
      { contactId: ada, displayName: 'Ada', addresses: [phone], createdAt: at },
      metadata,
    );
    expect(first).toMatchObject({ ok: true, contact: { contactId: ada, addresses: [phone] } });
    const second = await contacts.create(
      { contactId: bob, displayName: null, addresses: ['bob@example.com', phone], createdAt: at },
      metadata,
    );
    expect(second).toEqual({ ok: false, reason: 'address_taken', address: phone, holder: ada });
    // bob's first claim was released again, and bob was never created.
    const released = await store.readStream(contactAddressStreamId('bob@example.com'));
    expect(released.map((e) => (e.data as { contactId: string | null }).contactId)).toEqual([bob, null]);
    expect(await store.readStream(contactStreamId(bob))).toEqual([]);
    expect(released[0]?.metadata).toEqual({ ...metadata, schemaVersion: currentSchemaVersion });
  });

  it('decides an added address again after a concurrent change to the contact, and records it once', async () => {
    const store = new InMemoryEventStore();
    const contacts = contactCommands(store);
    await contacts.create({ contactId: ada, displayName: null, addresses: [], createdAt: at }, metadata);
    let raced = false;
    // Someone renames Ada between this command's read and its append to her stream.
    const racing: CommandLog = {
      readStream: (streamId, options) => store.readStream(streamId, options),
      append: async (streamId, events, expected) => {
        if (!raced && streamId === contactStreamId(ada)) {
          raced = true;
          await contacts.rename({ commandId: bob, contactId: ada, displayName: 'Ada', renamedAt: at }, metadata);
        }
        return store.append(streamId, events, expected);
      },
    };
    const outcome = await contactCommands(racing).addAddress(
      { commandId: ada, contactId: ada, address: phone, addedAt: at },
      metadata,
    );
    expect(outcome).toMatchObject({ ok: true, contact: { contactId: ada, displayName: 'Ada', addresses: [phone] } });
    expect(raced).toBe(true);
    const claims = await store.readStream(contactAddressStreamId(phone));
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
    await contacts.create({ contactId: ada, displayName: null, addresses: [], createdAt: at }, metadata);
    await contacts.create({ contactId: bob, displayName: null, addresses: [], createdAt: at }, metadata);
    let raced = false;
    // Bob takes the address between Ada's read of its claim stream and her claim.
    const racing: CommandLog = {
      readStream: (streamId, options) => store.readStream(streamId, options),
      append: async (streamId, events, expected) => {
        if (!raced && streamId === contactAddressStreamId(phone)) {
          raced = true;
          await contacts.addAddress({ commandId: bob, contactId: bob, address: phone, addedAt: at }, metadata);
        }
        return store.append(streamId, events, expected);
      },
    };
    const outcome = await contactCommands(racing).addAddress(
      { commandId: ada, contactId: ada, address: phone, addedAt: at },
      metadata,
    );
    expect(outcome).toEqual({ ok: false, reason: 'claim_conflict', address: phone });
    expect((await store.readStream(contactStreamId(ada))).map((e) => e.type)).toEqual(['ContactCreated']);
    const claims = await store.readStream(contactAddressStreamId(phone));
    expect(claims.map((e) => (e.data as { contactId: string | null }).contactId)).toEqual([bob]);
  });
});
