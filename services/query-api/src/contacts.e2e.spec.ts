// Contacts across channels against real processes (command API, projector, query API): first contact makes
// implicit contacts, contact commands name and merge them, every conversation stays reachable from the
// survivor, listings show names, and `bin/replay --verify` finds the rebuilt contacts and opt-outs identical.
import { join } from 'node:path';
import { implicitContactId, localAccountId } from '@hatch/domain';
import { freePort } from '@hatch/infra';
import { repositoryRoot, startServiceProcess } from '@hatch/infra/service-process';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type CommandApiProcess,
  postJson,
  type ServiceProcess,
  spawnService,
  startCommandApi,
  waitFor,
} from '@hatch/testing/processes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: answers are read as loose JSON; the servers check their schemas
type Body = Record<string, any>;

const ours = '+12016661234';
const ada = '+18045551234';
const adaMail = 'ada@example.com';

describe('contacts against real processes', () => {
  let database: TestDatabase;
  let api: CommandApiProcess;
  let projector: ServiceProcess;
  let query: ServiceProcess;
  let queryUrl: string;
  let last = '';

  const command = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Body;
    if (typeof json.position === 'string' && json.position) last = json.position;
    return { status: res.status, body: json };
  };
  /** Reads after the last write (read-your-writes on the position the command answered). */
  const read = async (path: string) => {
    const res = await fetch(`${queryUrl}${path}${path.includes('?') ? '&' : '?'}after=${last}`);
    return { status: res.status, body: (await res.json()) as Body };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const [projectorPort, queryPort] = await Promise.all([freePort(), freePort()]);
    api = await startCommandApi(database.url);
    projector = spawnService('projector', { DATABASE_URL: database.url, PROJECTOR_PORT: String(projectorPort) });
    query = spawnService('query-api', { DATABASE_URL: database.url, QUERY_API_PORT: String(queryPort) });
    queryUrl = `http://127.0.0.1:${queryPort}`;
    await waitFor(async () => (await fetch(`${queryUrl}/health`)).ok, 20_000, `query API (${query.tail()})`);
  });

  afterAll(async () => {
    await api?.process.stop();
    await projector?.stop();
    await query?.stop();
    await database?.drop();
  });

  it('makes contacts on first contact; create, merge, rename keep every conversation reachable', async () => {
    const inbound = await postJson(`${api.url}/api/webhooks/sms`, {
      from: ada,
      to: ours,
      type: 'sms',
      messaging_provider_id: 'in-1',
      body: 'hi, it is Ada',
      attachments: null,
      timestamp: '2024-11-01T14:00:00Z',
    });
    expect(inbound.status).toBe(200);
    const stop = await postJson(`${api.url}/api/webhooks/sms`, {
      from: ada,
      to: ours,
      type: 'sms',
      messaging_provider_id: 'in-2',
      body: 'STOP',
      attachments: null,
      timestamp: '2024-11-01T14:00:30Z',
    });
    expect(stop.status).toBe(200);
    const mail = await command('POST', '/api/messages/email', {
      from: 'me@usehatchapp.com',
      to: adaMail,
      body: 'hello Ada',
      attachments: null,
      timestamp: '2024-11-01T14:01:00Z',
    });
    expect(mail.status).toBe(202);

    const implicit = await read(`/api/contacts/${implicitContactId(localAccountId, ada)}`);
    expect(implicit.body).toMatchObject({ origin: 'implicit', addresses: [{ address: ada, kind: 'phone' }] });
    expect(implicit.body.consent).toEqual([
      expect.objectContaining({ sender: ours, channel: 'sms', status: 'opted_out' }),
    ]);

    const phoneContact = await command('POST', '/api/contacts', { display_name: 'Ada', addresses: ['(804) 555-1234'] });
    expect(phoneContact.status).toBe(201);
    const x = phoneContact.body.id as string;
    const mailContact = await command('POST', '/api/contacts', { display_name: 'Ada (work)', addresses: [adaMail] });
    const y = mailContact.body.id as string;
    // An address belongs to at most one contact.
    const taken = await command('POST', '/api/contacts', { addresses: [ada] });
    expect(taken.status).toBe(409);
    expect(taken.body.type).toBe('https://hatch.dev/problems/address-taken');
    expect((await command('POST', `/api/contacts/${y}/addresses`, { address: ada })).status).toBe(409);

    // The implicit contact was absorbed; the opt-out follows the address.
    expect((await read(`/api/contacts/${implicitContactId(localAccountId, ada)}`)).body.mergedInto).toBe(x);
    expect((await read(`/api/contacts/${x}`)).body.consent).toHaveLength(1);

    const merged = await command('POST', `/api/contacts/${x}/merge`, { contact_id: y });
    expect(merged.status).toBe(200);
    expect((await command('PATCH', `/api/contacts/${y}`, { display_name: 'late' })).status).toBe(409);
    expect((await command('PATCH', `/api/contacts/${x}`, { display_name: 'Ada Lovelace' })).status).toBe(200);

    const survivor = await read(`/api/contacts/${x}`);
    expect(survivor.body).toMatchObject({ displayName: 'Ada Lovelace', mergedInto: null });
    expect(survivor.body.addresses.map((a: Body) => a.address).sort()).toEqual([ada, adaMail].sort());
    expect((await read(`/api/contacts/${y}`)).body.mergedInto).toBe(x);
    const conversations = await read(`/api/contacts/${x}/conversations`);
    expect(conversations.body.items.flatMap((c: Body) => c.channels).sort()).toEqual(['email', 'sms']);
    expect((await read(`/api/contacts/${y}/conversations`)).body.items).toEqual([]);

    const search = async (q: string) =>
      (await read(`/api/contacts?q=${encodeURIComponent(q)}`)).body.items.map((c: Body) => c.id);
    expect(await search('lovelace')).toEqual([x]);
    expect(await search('ADA@example.com')).toEqual([x]);
    expect(await search('804-555-1234')).toEqual([x]);
    const listing = await read('/api/conversations');
    for (const c of listing.body.items)
      expect(c.contacts, JSON.stringify(c)).toEqual([
        expect.objectContaining({ contactId: x, displayName: 'Ada Lovelace' }),
      ]);

    // Removing an address: its next message makes its implicit contact again.
    expect((await command('DELETE', `/api/contacts/${x}/addresses/${encodeURIComponent(adaMail)}`)).status).toBe(200);
    await command('POST', '/api/messages/email', {
      from: 'me@usehatchapp.com',
      to: adaMail,
      body: 'again',
      attachments: null,
      timestamp: '2024-11-01T14:02:00Z',
    });
    expect((await read(`/api/contacts/${implicitContactId(localAccountId, adaMail)}`)).body).toMatchObject({
      mergedInto: null,
    });
  });

  it('bin/replay --verify finds the rebuilt contacts and opt-outs identical to the live tables', async () => {
    const replay = startServiceProcess({
      entry: join(repositoryRoot, 'bin', 'replay.ts'),
      args: ['--verify'],
      env: { DATABASE_URL: database.url },
    });
    const { code } = await replay.exited;
    const out = replay.tail();
    expect(code, out).toBe(0);
    expect(out).toContain('contact_consents');
  });
});
