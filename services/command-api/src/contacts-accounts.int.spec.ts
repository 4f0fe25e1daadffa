// Contacts per account over real PostgreSQL and the command API's own server (query routes mounted as
// client routes, scoped to the caller's account, as main.ts does): one phone number is a contact of two
// accounts with independent names and claims; neither account reads, changes or merges the other's
// contact (the same 404 as an unknown id), nor sees its contacts, search hits or opt-outs; a contact
// create that fails after claiming its address leaves the address free.
import { randomBytes, randomUUID } from 'node:crypto';
import { implicitContactId } from '@hatch/domain';
import { type EventStore, PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { allProjections, createReadPool, type ReadPool } from '@hatch/projections';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import { registerQueryRoutes } from '@hatch/query-api';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';
import { createCommandApi } from './app.ts';
import { defaultCommandApiConfig } from './config.ts';

const logger = createLogger('contacts-accounts-test', { level: 'silent' });
const phone = '+18045550777';
const aNumber = '+12015550301';
const bNumber = '+12015550302';

let db: TestDatabase;
let store: PostgresEventStore;
let pool: pg.Pool;
let readPool: ReadPool;
let projector: Projector;
const apps: Awaited<ReturnType<typeof createCommandApi>>[] = [];

async function api(eventStore: EventStore = store) {
  const app = await createCommandApi(
    { eventStore, clock: { now: () => new Date() }, logger, config: defaultCommandApiConfig({}) },
    {
      mountClientRoutes: async (scope) => {
        await registerQueryRoutes(scope, {
          pool: readPool,
          store,
          logger,
          readYourWritesTimeoutMs: 5000,
          accountScope: (request) => request.accountId,
        });
      },
    },
  );
  apps.push(app);
  await app.ready();
  return app;
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 50 });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  projector = new Projector({ pool, databaseUrl: db.url, store, projections: allProjections, logger, lockRetryMs: 50 });
  projector.start();
  readPool = await createReadPool(db.url, { maximumPoolSize: 4 });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await projector?.stop();
  await store?.close();
  await readPool?.end();
  await pool?.end();
  await db?.drop();
});

async function createAccount(name: string, sender: string) {
  const ops = accountOperations({
    store,
    now: () => new Date(),
    newId: randomUUID,
    random: randomBytes,
    actor: 'test',
  });
  const created = await ops.createAccount(name, [sender]);
  if (!created.ok) throw new Error(`account not created: ${JSON.stringify(created)}`);
  return created.value;
}

describe('contacts per account', () => {
  let app: Awaited<ReturnType<typeof api>>;
  let a: { accountId: string; apiKey: string };
  let b: { accountId: string; apiKey: string };

  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const call = async (key: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: as(key),
      payload: payload as Record<string, unknown> | undefined,
    });
    return { status: res.statusCode, type: res.headers['content-type'], body: res.json() };
  };
  const read = async (key: string, url: string) => {
    const head = await store.headPosition();
    if (head !== null) await waitForCheckpoints(pool, allProjections, head);
    return call(key, 'GET', url);
  };
  /** What an answer says with the one id it names replaced: another account's id must read like an unknown one. */
  const shape = (answer: Awaited<ReturnType<typeof call>>, id: string) =>
    JSON.parse(JSON.stringify(answer).replaceAll(id, '<id>'));

  beforeAll(async () => {
    a = await createAccount('A', aNumber);
    b = await createAccount('B', bNumber);
    app = await api();
    // A new key counts once this instance's view of the account streams caught up (within its max age).
    for (const key of [a.apiKey, b.apiKey]) {
      const since = Date.now();
      while ((await call(key, 'GET', '/api/contacts?limit=1')).status === 401 && Date.now() - since < 3000)
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('one number is a contact of each account, with its own name and claim', async () => {
    const ours = await call(a.apiKey, 'POST', '/api/contacts', { display_name: 'Ada (A)', addresses: [phone] });
    const theirs = await call(b.apiKey, 'POST', '/api/contacts', { display_name: 'Ada (B)', addresses: [phone] });
    expect(ours).toMatchObject({ status: 201, body: { displayName: 'Ada (A)', addresses: [phone] } });
    expect(theirs).toMatchObject({ status: 201, body: { displayName: 'Ada (B)', addresses: [phone] } });
    expect(ours.body.id).not.toBe(theirs.body.id);
    // Each account's claim is its own: a second contact with the number is refused within the account only.
    const again = await call(a.apiKey, 'POST', '/api/contacts', { addresses: [phone] });
    expect(again).toMatchObject({ status: 409, body: { type: expect.stringContaining('address-taken') } });
    expect(again.body.contactId).toBe(ours.body.id);

    const mine = await read(a.apiKey, `/api/contacts/${ours.body.id}`);
    expect(mine).toMatchObject({ status: 200, body: { displayName: 'Ada (A)', addresses: [{ address: phone }] } });
    const list = await read(a.apiKey, '/api/contacts');
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([ours.body.id]);
    const found = await read(b.apiKey, `/api/contacts?q=${encodeURIComponent(phone)}`);
    expect(found.body.items.map((c: { id: string }) => c.id)).toEqual([theirs.body.id]);
  });

  it("another account's contact answers exactly as an unknown id, to every read and command", async () => {
    const theirs = (await read(b.apiKey, `/api/contacts?q=${encodeURIComponent(phone)}`)).body.items[0].id as string;
    const ours = (await read(a.apiKey, `/api/contacts?q=${encodeURIComponent(phone)}`)).body.items[0].id as string;
    const unknown = randomUUID();
    type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
    // Each request, for a contact id: asked with B's contact and with an id nobody has.
    const attempts: ((id: string) => [Method, string, unknown?])[] = [
      (id) => ['GET', `/api/contacts/${id}`],
      (id) => ['GET', `/api/contacts/${id}/conversations`],
      (id) => ['PATCH', `/api/contacts/${id}`, { display_name: 'Mine now' }],
      (id) => ['POST', `/api/contacts/${id}/addresses`, { address: 'taken@example.com' }],
      (id) => ['DELETE', `/api/contacts/${id}/addresses/${encodeURIComponent(phone)}`],
      (id) => ['POST', `/api/contacts/${id}/merge`, { contact_id: ours }],
      // Merging the other account's contact into one's own.
      (id) => ['POST', `/api/contacts/${ours}/merge`, { contact_id: id }],
    ];
    const headBefore = await store.headPosition();
    for (const attempt of attempts) {
      const other = await call(a.apiKey, ...attempt(theirs));
      const none = await call(a.apiKey, ...attempt(unknown));
      const what = attempt('…').slice(0, 2).join(' ');
      expect(other.status, what).toBe(404);
      expect(other.type, what).toContain('application/problem+json');
      expect(shape(other, theirs), what).toEqual(shape(none, unknown));
    }
    // Nothing was written, and B's contact is as B left it.
    expect(await store.headPosition()).toBe(headBefore);
    const still = await read(b.apiKey, `/api/contacts/${theirs}`);
    expect(still.body).toMatchObject({ displayName: 'Ada (B)', mergedInto: null, addresses: [{ address: phone }] });
  });

  it('implicit contacts, opt-outs and conversations stay within their account', async () => {
    const send = (key: string, from: string) =>
      call(key, 'POST', '/api/messages/sms', {
        from,
        to: phone,
        type: 'sms',
        body: 'hello',
        attachments: null,
        timestamp: '2024-11-01T14:00:00Z',
      });
    expect((await send(a.apiKey, aNumber)).status).toBe(202);
    expect((await send(b.apiKey, bNumber)).status).toBe(202);
    // The number replies STOP to B's number only.
    const stop = await app.inject({
      method: 'POST',
      url: '/api/webhooks/sms',
      payload: {
        from: phone,
        to: bNumber,
        type: 'sms',
        messaging_provider_id: 'contacts-accounts-stop',
        body: 'STOP',
        attachments: null,
        timestamp: '2024-11-01T14:01:00Z',
      },
    });
    expect(stop.statusCode).toBe(200);
    const newcomer = '+18045550888';
    expect(
      (
        await call(a.apiKey, 'POST', '/api/messages/sms', {
          from: aNumber,
          to: newcomer,
          type: 'sms',
          body: 'hi',
          attachments: null,
          timestamp: '2024-11-01T14:02:00Z',
        })
      ).status,
    ).toBe(202);

    const ours = (await read(a.apiKey, `/api/contacts?q=${encodeURIComponent(phone)}`)).body.items[0].id as string;
    const theirs = (await read(b.apiKey, `/api/contacts?q=${encodeURIComponent(phone)}`)).body.items[0].id as string;
    expect((await read(a.apiKey, `/api/contacts/${ours}`)).body.consent).toEqual([]);
    expect((await read(b.apiKey, `/api/contacts/${theirs}`)).body.consent).toEqual([
      expect.objectContaining({ address: phone, sender: bNumber, channel: 'sms', status: 'opted_out' }),
    ]);

    // A's first message to a new number made A's implicit contact; B has none for it.
    const implicit = implicitContactId(a.accountId, newcomer);
    expect((await read(a.apiKey, `/api/contacts/${implicit}`)).body).toMatchObject({ origin: 'implicit' });
    expect((await read(b.apiKey, `/api/contacts/${implicit}`)).status).toBe(404);
    expect((await read(b.apiKey, `/api/contacts?q=${encodeURIComponent(newcomer)}`)).body.items).toEqual([]);
    expect((await read(b.apiKey, `/api/contacts/${implicitContactId(b.accountId, newcomer)}`)).status).toBe(404);

    // Each contact's conversations are its account's, named with its account's contact.
    const mine = (await read(a.apiKey, `/api/contacts/${ours}/conversations`)).body.items;
    const yours = (await read(b.apiKey, `/api/contacts/${theirs}/conversations`)).body.items;
    expect(mine).toHaveLength(1);
    expect(yours).toHaveLength(1);
    expect(mine[0].id).not.toBe(yours[0].id);
    expect(mine[0].participants).toContain(aNumber);
    expect(mine[0].contacts).toEqual([{ address: phone, contactId: ours, displayName: 'Ada (A)' }]);
    expect(yours[0].contacts).toEqual([{ address: phone, contactId: theirs, displayName: 'Ada (B)' }]);
  });
});

describe('a failed contact create', () => {
  it('does not leave its address claimed by a contact that never came to exist', async () => {
    let failContacts = true;
    // The log refuses the contact's own stream once: the create fails after its claim was written.
    const failing = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'append')
          return (...args: Parameters<EventStore['append']>) => {
            if (failContacts && args[0].startsWith('contact-')) {
              failContacts = false;
              return Promise.reject(new Error('the event log refused the append'));
            }
            return target.append(...args);
          };
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const app = await api(failing);
    const address = 'stranded@example.com';
    const create = () =>
      app.inject({ method: 'POST', url: '/api/contacts', payload: { display_name: 'Sam', addresses: [address] } });
    const failed = await create();
    expect(failed.statusCode).toBeGreaterThanOrEqual(500);
    expect(failContacts).toBe(false);
    const retried = await create();
    expect(retried.statusCode).toBe(201);
    expect(retried.json()).toMatchObject({ displayName: 'Sam', addresses: [address] });
  });
});
