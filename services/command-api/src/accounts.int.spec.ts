// Accounts at the edge, on real PostgreSQL: keys from bin/hatch's operations authenticate as their account,
// a revoked key is refused within a second, sends only from owned senders, inbound routed by `to`, the
// local account in local mode and a closed service in production.
import { randomBytes, randomUUID } from 'node:crypto';
import { accountStreamId, localAccountId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';
import { createCommandApi } from './app.ts';
import { type CommandApiConfig, defaultCommandApiConfig } from './config.ts';

const silent = createLogger('accounts-test', { level: 'silent' });
let db: TestDatabase;
let store: PostgresEventStore;
const apps: Awaited<ReturnType<typeof createCommandApi>>[] = [];

async function api(config: Partial<CommandApiConfig> = {}) {
  const app = await createCommandApi({
    eventStore: store,
    clock: { now: () => new Date() },
    logger: silent,
    config: defaultCommandApiConfig(config),
  });
  apps.push(app);
  await app.ready();
  return app;
}

const ops = () =>
  accountOperations({ store, now: () => new Date(), newId: randomUUID, random: randomBytes, actor: 'operator:test' });

async function createAccount(name: string, senders: string[]) {
  const created = await ops().createAccount(name, senders);
  if (!created.ok) throw new Error(`account not created: ${JSON.stringify(created)}`);
  return created.value;
}

const sms = (from: string, to = '+18045550001') => ({
  from,
  to,
  type: 'sms',
  body: 'hello',
  attachments: null,
  timestamp: '2024-11-01T14:00:00Z',
});

const eventsOf = async (messageId: string) => store.readStream(`message-${messageId}`);

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await store.close();
  await db.drop();
});

describe('account keys', () => {
  it('a key acts as its account (Bearer or X-API-Key); unknown and revoked keys get 401', async () => {
    const acme = await createAccount('Acme', ['+12015550100']);
    const app = await api();
    const send = (headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: '/api/messages/sms', headers, payload: sms('+12015550100') });

    const both: Record<string, string>[] = [{ authorization: `Bearer ${acme.apiKey}` }, { 'x-api-key': acme.apiKey }];
    for (const headers of both) {
      const ok = await send(headers);
      expect(ok.statusCode).toBe(202);
      expect((await eventsOf(ok.json().id))[0]?.data).toMatchObject({ clientId: acme.accountId });
    }
    const unknown = await send({ authorization: `Bearer hk_live_${'x'.repeat(40)}` });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect((await send({ authorization: 'Bearer not-a-key' })).statusCode).toBe(401);

    const revoked = await ops().revokeKey(acme.accountId, acme.keyId);
    expect(revoked.ok).toBe(true);
    const since = Date.now();
    let status = 202;
    while (status !== 401 && Date.now() - since < 1000) {
      status = (await send({ authorization: `Bearer ${acme.apiKey}` })).statusCode;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(401);
    expect(Date.now() - since).toBeLessThan(1000);
  });

  it('a key issued after start-up works on a running instance', async () => {
    const app = await api();
    await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms('+12015550190') }); // warm the view
    const late = await createAccount('Late', ['+12015550101']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const ok = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers: { authorization: `Bearer ${late.apiKey}` },
      payload: sms('+12015550101'),
    });
    expect(ok.statusCode).toBe(202);
  });
});

describe('owned senders', () => {
  it('a send from a sender the account does not own is 403 naming body.from, and appends nothing', async () => {
    const owner = await createAccount('Owner', ['+12015550102', '@owner.example']);
    const app = await api();
    const before = await store.readAll({ category: 'message' });
    const refused = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers: { authorization: `Bearer ${owner.apiKey}` },
      payload: sms('+12015550999'),
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().errors).toEqual([{ field: 'body.from', message: expect.any(String) }]);
    expect((await store.readAll({ category: 'message' })).length).toBe(before.length);
    // A whole domain covers every address at it.
    const email = await app.inject({
      method: 'POST',
      url: '/api/messages/email',
      headers: { authorization: `Bearer ${owner.apiKey}` },
      payload: {
        from: 'news@owner.example',
        to: 'a@b.example',
        body: 'hi',
        attachments: null,
        timestamp: '2024-11-01T14:00:00Z',
      },
    });
    expect(email.statusCode).toBe(202);
  });

  it('in local mode a keyless send is the local account, which claims the sender on first use', async () => {
    const app = await api();
    const ok = await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms('+12015550103') });
    expect(ok.statusCode).toBe(202);
    expect((await eventsOf(ok.json().id))[0]?.data).toMatchObject({ clientId: localAccountId });
    const local = await store.readStream(accountStreamId(localAccountId));
    expect(local.map((e) => e.type)).toContain('AccountCreated');
    expect(local.filter((e) => e.type === 'SenderAdded').map((e) => (e.data as { sender: string }).sender)).toContain(
      '+12015550103',
    );
    // A sender another account owns stays theirs.
    await createAccount('Taken', ['+12015550104']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const taken = await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms('+12015550104') });
    expect(taken.statusCode).toBe(403);
  });

  it('in production a request without a key is 401', async () => {
    const app = await api({ production: true });
    const none = await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms('+12015550105') });
    expect(none.statusCode).toBe(401);
  });
});

describe('inbound routing', () => {
  const inbound = (to: string, id: string) => ({
    from: '+18045550002',
    to,
    type: 'sms',
    messaging_provider_id: id,
    body: 'a reply',
    attachments: null,
    timestamp: '2024-11-01T14:01:00Z',
  });
  const receivedBy = async (messageId: string) =>
    ((await eventsOf(messageId))[0]?.data as { accountId?: string } | undefined)?.accountId;

  it('goes to the account owning `to`; in production an unowned `to` is 422 and counted, never appended', async () => {
    const owner = await createAccount('Inbound', ['+12015550106']);
    const app = await api({ production: true });
    const routed = await app.inject({
      method: 'POST',
      url: '/api/webhooks/sms',
      payload: inbound('+12015550106', 'in-1'),
    });
    expect(routed.statusCode).toBe(200);
    expect(await receivedBy(routed.json().id)).toBe(owner.accountId);

    const before = (await store.readAll({ category: 'message' })).length;
    const unowned = await app.inject({
      method: 'POST',
      url: '/api/webhooks/sms',
      payload: inbound('+12015550888', 'in-2'),
    });
    expect(unowned.statusCode).toBe(422);
    expect(unowned.json().errors).toEqual([{ field: 'body.to', message: expect.any(String) }]);
    expect((await store.readAll({ category: 'message' })).length).toBe(before);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(
      /hatch_inbound_unrouted_total\{[^}]*channel="sms"[^}]*\} 1/,
    );
  });

  it('in local mode an unowned `to` goes to the local account', async () => {
    const app = await api();
    const local = await app.inject({
      method: 'POST',
      url: '/api/webhooks/sms',
      payload: inbound('+12015550777', 'in-3'),
    });
    expect(local.statusCode).toBe(200);
    expect(await receivedBy(local.json().id)).toBe(localAccountId);
  });
});

describe('automatic keyword replies', () => {
  it('50 HELP from one number to an owned number get one answer within the window', async () => {
    await createAccount('Helpdesk', ['+12015550107']);
    const app = await api({ production: true });
    const before = (await store.readAll({ category: 'message' })).filter((e) => e.type === 'MessageRequested').length;
    for (let i = 0; i < 50; i++) {
      const help = await app.inject({
        method: 'POST',
        url: '/api/webhooks/sms',
        payload: { ...sms('+18045550003', '+12015550107'), messaging_provider_id: `help-${i}`, body: 'HELP' },
      });
      expect(help.statusCode).toBe(200);
    }
    const requested = (await store.readAll({ category: 'message' })).filter((e) => e.type === 'MessageRequested');
    expect(requested.length - before).toBe(1);
    expect(requested.at(-1)?.data).toMatchObject({
      from: '+12015550107',
      to: '+18045550003',
      purpose: 'consent_reply',
    });
  });
});
