// Contact commands: create, rename, add/remove an address, merge. Each records events on the contact's
// stream `contact-<id>`; who holds an address is decided on the address's own stream
// (`contactaddress-<uuid>`, ContactAddressClaimed appended with an expected version), so an address belongs
// to at most one contact even when two commands race for it. An address nobody claimed belongs to its
// implicit contact (made on first contact by the projection): claiming it moves it, with its history.
import {
  addressHolderFrom,
  type ContactState,
  contactAddressStreamId,
  contactStateFrom,
  contactStreamId,
  newId,
  normaliseContactAddress,
} from '@hatch/domain';
import { WrongExpectedVersionError } from '@hatch/event-store';
import { type HttpApp, Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CommandDeps } from './command-deps.ts';
import type { DurableLog } from './durable-append.ts';
import { invalidRequest } from './send-routes.ts';

const address = z.string().min(1).max(320);
const displayName = z.string().trim().min(1).max(200).nullish();
const createContactPayload = z.strictObject({
  display_name: displayName,
  addresses: z.array(address).max(50).default([]),
});
const renameContactPayload = z.strictObject({ display_name: displayName });
const addAddressPayload = z.strictObject({ address });
const mergePayload = z.strictObject({ contact_id: z.uuid() });
const idParams = z.object({ id: z.uuid() });
const contactResponse = z.object({
  id: z.uuid(),
  displayName: z.string().nullable(),
  addresses: z.array(z.string()),
  position: z.string(),
});

export function registerContactRoutes(app: HttpApp, deps: CommandDeps, log: DurableLog) {
  const now = () => deps.clock.now().toISOString();
  const metadata = (request: FastifyRequest) => ({
    correlationId: request.id,
    causationId: null,
    actor: request.clientId,
    schemaVersion: 1,
  });
  const event = (request: FastifyRequest, type: string, data: Record<string, unknown>) => ({
    id: newId(),
    type,
    data,
    metadata: metadata(request),
  });

  function normalised(raw: string[]): string[] {
    const errors: { field: string; message: string }[] = [];
    const values = raw.map((a, i) => {
      const result = normaliseContactAddress(a);
      if (!result.ok) errors.push({ field: raw.length === 1 ? 'address' : `addresses.${i}`, message: result.message });
      return result.ok ? result.value : a;
    });
    if (errors.length > 0) throw invalidRequest(errors);
    return [...new Set(values)];
  }

  async function loadContact(id: string) {
    const events = await log.readStream(contactStreamId(id));
    const state = contactStateFrom(id, events);
    if (!state)
      throw new Problem(404, 'not-found', 'Contact not found', {
        detail: 'no such contact (contacts made on first contact are named by creating a contact with their address)',
      });
    if (state.mergedInto)
      throw new Problem(409, 'contact-merged', 'Contact was merged', {
        detail: `contact ${id} was merged into ${state.mergedInto}`,
        mergedInto: state.mergedInto,
      });
    return { state, version: (events.at(-1)?.streamVersion ?? -1) as number };
  }

  /** Appends at an expected version; a concurrent writer of the same stream makes it a 409 to retry. */
  async function appendAtVersion(stream: string, events: ReturnType<typeof event>[], version: number) {
    try {
      return await log.append(stream, events, version);
    } catch (error) {
      if (error instanceof WrongExpectedVersionError)
        throw new Problem(
          409,
          'concurrent-modification',
          'Changed meanwhile',
          { detail: `${stream} was changed by another request; read it again and retry` },
          { 'retry-after': '1' },
        );
      throw error;
    }
  }

  /** Throws 409 when another (live) contact holds `addr`. */
  async function assertClaimable(addr: string, contactId: string) {
    const holder = addressHolderFrom(await log.readStream(contactAddressStreamId(addr)));
    if (holder === null || holder === contactId) return;
    const holderState = contactStateFrom(holder, await log.readStream(contactStreamId(holder)));
    if (!holderState?.mergedInto)
      throw new Problem(409, 'address-taken', 'Address belongs to another contact', {
        detail: `${addr} belongs to contact ${holder}; remove it there or merge the contacts`,
        contactId: holder,
      });
  }

  /** Moves `addr` to `contactId` if nobody else holds it (or `from` does); decided on the address's stream. */
  async function claim(request: FastifyRequest, addr: string, contactId: string | null, from: string | null = null) {
    const stream = contactAddressStreamId(addr);
    const events = await log.readStream(stream);
    const holder = addressHolderFrom(events);
    if (holder !== null && holder !== contactId && holder !== from) {
      // A holder that was merged away no longer holds anything.
      const holderState = contactStateFrom(holder, await log.readStream(contactStreamId(holder)));
      if (!holderState?.mergedInto)
        throw new Problem(409, 'address-taken', 'Address belongs to another contact', {
          detail: `${addr} belongs to contact ${holder}; remove it there or merge the contacts`,
          contactId: holder,
        });
    }
    if (holder === contactId) return;
    try {
      await log.append(
        stream,
        [event(request, 'ContactAddressClaimed', { address: addr, contactId, claimedAt: now() })],
        (events.at(-1)?.streamVersion ?? 'no_stream') as number | 'no_stream',
      );
    } catch (error) {
      if (error instanceof WrongExpectedVersionError)
        throw new Problem(409, 'address-taken', 'Address changed hands meanwhile', { detail: `${addr}: retry` });
      throw error;
    }
  }

  const answer = (state: ContactState, position: string) => ({
    id: state.contactId,
    displayName: state.displayName,
    addresses: state.addresses,
    position,
  });

  app.post(
    '/api/contacts',
    {
      schema: {
        summary: 'Create a contact (its addresses move from whoever held them implicitly)',
        tags: ['contacts'],
        body: createContactPayload,
        response: { 201: contactResponse },
      },
    },
    async (request, reply) => {
      const body = request.body as z.infer<typeof createContactPayload>;
      const addresses = normalised(body.addresses);
      const contactId = newId();
      const claimed: string[] = [];
      try {
        for (const a of addresses) {
          await claim(request, a, contactId);
          claimed.push(a);
        }
      } catch (error) {
        // Give back what this command took before the conflict.
        for (const a of claimed) await claim(request, a, null, contactId).catch(() => {});
        throw error;
      }
      const created = {
        contactId,
        displayName: body.display_name ?? null,
        addresses,
        createdAt: now(),
      };
      const result = await log.append(
        contactStreamId(contactId),
        [event(request, 'ContactCreated', created)],
        'no_stream',
      );
      return reply.code(201).send(answer({ ...created, mergedInto: null }, result.position));
    },
  );

  app.patch(
    '/api/contacts/:id',
    {
      schema: {
        summary: 'Rename a contact',
        tags: ['contacts'],
        params: idParams,
        body: renameContactPayload,
        response: { 200: contactResponse },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const body = request.body as z.infer<typeof renameContactPayload>;
      const { state, version } = await loadContact(id);
      const displayName = body.display_name ?? null;
      const result = await appendAtVersion(
        contactStreamId(id),
        [event(request, 'ContactRenamed', { contactId: id, displayName, renamedAt: now() })],
        version,
      );
      return answer({ ...state, displayName }, result.position);
    },
  );

  app.post(
    '/api/contacts/:id/addresses',
    {
      schema: {
        summary: 'Add a phone number or email address to a contact (409 when another contact holds it)',
        tags: ['contacts'],
        params: idParams,
        body: addAddressPayload,
        response: { 200: contactResponse },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const [addr] = normalised([(request.body as { address: string }).address]) as [string];
      const { state, version } = await loadContact(id);
      if (state.addresses.includes(addr)) return answer(state, '');
      // The contact's own stream first, at the version read: a concurrent change to this contact fails the
      // request (409) before anything is written. Then the address's stream decides who holds it.
      await assertClaimable(addr, id);
      const result = await appendAtVersion(
        contactStreamId(id),
        [event(request, 'ContactAddressAdded', { contactId: id, address: addr, addedAt: now() })],
        version,
      );
      await claim(request, addr, id);
      return answer({ ...state, addresses: [...state.addresses, addr] }, result.position);
    },
  );

  app.delete(
    '/api/contacts/:id/addresses/:address',
    {
      schema: {
        summary: 'Remove an address from a contact (its next message makes it an implicit contact again)',
        tags: ['contacts'],
        params: z.object({ id: z.uuid(), address }),
        response: { 200: contactResponse },
      },
    },
    async (request) => {
      const { id, address: raw } = request.params as { id: string; address: string };
      const [addr] = normalised([raw]) as [string];
      const { state, version } = await loadContact(id);
      if (!state.addresses.includes(addr)) throw new Problem(404, 'not-found', 'The contact has no such address');
      const result = await appendAtVersion(
        contactStreamId(id),
        [event(request, 'ContactAddressRemoved', { contactId: id, address: addr, removedAt: now() })],
        version,
      );
      await claim(request, addr, null, id);
      return answer({ ...state, addresses: state.addresses.filter((a) => a !== addr) }, result.position);
    },
  );

  app.post(
    '/api/contacts/:id/merge',
    {
      schema: {
        summary: 'Merge another contact into this one: its addresses (and so its conversations) move here',
        tags: ['contacts'],
        params: idParams,
        body: mergePayload,
        response: { 200: contactResponse },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const other = (request.body as { contact_id: string }).contact_id;
      if (other === id) throw new Problem(422, 'merge-into-itself', 'A contact cannot be merged into itself');
      const survivor = await loadContact(id);
      const merged = await loadContact(other);
      // Decided on the merged contact's stream: a concurrent change to it makes this merge fail, not half-apply.
      const result = await appendAtVersion(
        contactStreamId(other),
        [
          event(request, 'ContactMerged', {
            contactId: other,
            into: id,
            addresses: merged.state.addresses,
            mergedAt: now(),
          }),
        ],
        merged.version,
      );
      // The addresses' streams follow (a merged holder is treated as not holding, should this be cut short).
      for (const a of merged.state.addresses) await claim(request, a, id, other);
      // And the survivor's own stream records what it now holds.
      const moved = merged.state.addresses.filter((a) => !survivor.state.addresses.includes(a));
      if (moved.length > 0)
        await log.append(
          contactStreamId(id),
          moved.map((a) => event(request, 'ContactAddressAdded', { contactId: id, address: a, addedAt: now() })),
          'any',
        );
      return answer(
        { ...survivor.state, addresses: [...survivor.state.addresses, ...merged.state.addresses] },
        result.position,
      );
    },
  );
}
