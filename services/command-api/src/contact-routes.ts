// Contact commands over HTTP: create, rename, add/remove an address, merge. The commands and their
// streams are @hatch/commands' (contact-commands.ts) and the decisions @hatch/domain's; here requests
// become commands (with ids from the injected id source) and outcomes become answers. Every command acts
// within the caller's account: another account's contact answers the same 404 as an unknown id.
import { type ContactOutcome, contactCommands } from '@hatch/commands';
import { newId, normaliseContactAddresses } from '@hatch/domain';
import { Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalidPayload } from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';

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

function normalised(raw: string[]): string[] {
  const result = normaliseContactAddresses(raw);
  if (!result.ok) throw invalidPayload(result.errors);
  return result.addresses;
}

function answer(outcome: ContactOutcome) {
  if (outcome.ok)
    return {
      id: outcome.contact.contactId,
      displayName: outcome.contact.displayName,
      addresses: outcome.contact.addresses,
      position: outcome.position ?? '',
    };
  switch (outcome.reason) {
    case 'not_found':
      throw new Problem(404, 'not-found', 'Contact not found', {
        detail: 'no such contact (contacts made on first contact are named by creating a contact with their address)',
      });
    case 'merged':
      throw new Problem(409, 'contact-merged', 'Contact was merged', {
        detail: `contact ${outcome.contactId} was merged into ${outcome.mergedInto}`,
        mergedInto: outcome.mergedInto,
      });
    case 'address_taken':
      throw new Problem(409, 'address-taken', 'Address belongs to another contact', {
        detail: `${outcome.address} belongs to contact ${outcome.holder}; remove it there or merge the contacts`,
        contactId: outcome.holder,
      });
    case 'claim_conflict':
      throw new Problem(409, 'address-taken', 'Address changed hands meanwhile', {
        detail: `${outcome.address}: retry`,
      });
    case 'concurrent_modification':
      throw new Problem(
        409,
        'concurrent-modification',
        'Changed meanwhile',
        { detail: `${outcome.streamId} was changed by another request; read it again and retry` },
        { 'retry-after': '1' },
      );
    case 'no_such_address':
      throw new Problem(404, 'not-found', 'The contact has no such address');
    case 'merge_into_itself':
      throw new Problem(422, 'merge-into-itself', 'A contact cannot be merged into itself');
  }
}

export const contactRoutes: FastifyPluginAsyncZod<CommandRouteOptions> = async (app, { deps, log }) => {
  const contacts = contactCommands(log);
  const ids = deps.newId ?? newId;
  const now = () => deps.clock.now().toISOString();
  /** A command on the caller's contact `contactId`: a fresh command id, the caller's account. */
  const onContact = (request: FastifyRequest, contactId: string) => ({
    commandId: ids(),
    accountId: request.accountId,
    contactId,
  });
  const metadata = (request: FastifyRequest) => ({
    correlationId: request.id,
    causationId: null,
    actor: request.accountId,
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
      const addresses = normalised(request.body.addresses);
      const data = {
        accountId: request.accountId,
        contactId: ids(),
        displayName: request.body.display_name ?? null,
        addresses,
        createdAt: now(),
      };
      return reply.code(201).send(answer(await contacts.create(data, metadata(request))));
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
      const data = {
        ...onContact(request, request.params.id),
        displayName: request.body.display_name ?? null,
        renamedAt: now(),
      };
      return answer(await contacts.rename(data, metadata(request)));
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
      const [addr] = normalised([request.body.address]) as [string];
      const data = { ...onContact(request, request.params.id), address: addr, addedAt: now() };
      return answer(await contacts.addAddress(data, metadata(request)));
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
      const [addr] = normalised([request.params.address]) as [string];
      const data = { ...onContact(request, request.params.id), address: addr, removedAt: now() };
      return answer(await contacts.removeAddress(data, metadata(request)));
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
      const data = {
        ...onContact(request, request.params.id),
        otherId: request.body.contact_id,
        mergedAt: now(),
      };
      return answer(await contacts.merge(data, metadata(request)));
    },
  );
};
