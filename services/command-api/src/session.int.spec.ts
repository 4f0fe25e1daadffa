// Web inbox sign-in and the webhook rate limit over real HTTP on real PostgreSQL: a key is exchanged for a
// cookie that is not the key, authenticates reads and (with the CSRF header) writes, ends on sign-out and
// within a second of the key's revocation; provider webhooks are limited per source address.
import { randomBytes, randomUUID } from 'node:crypto';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';
import { type CommandApiOptions, createCommandApi } from './app.ts';
import { type CommandApiConfig, defaultCommandApiConfig } from './config.ts';

const silent = createLogger('session-test', { level: 'silent' });
let db: TestDatabase;
let store: PostgresEventStore;
const apps: Awaited<ReturnType<typeof createCommandApi>>[] = [];

async function serve(config: Partial<CommandApiConfig> = {}, options: CommandApiOptions = {}) {
  const app = await createCommandApi(
    { eventStore: store, clock: { now: () => new Date() }, logger: silent, config: defaultCommandApiConfig(config) },
    options,
  );
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

const ops = () =>
  accountOperations({ store, now: () => new Date(), newId: randomUUID, random: randomBytes, actor: 'operator:test' });

async function createAccount(name: string, senders: string[]) {
  const created = await ops().createAccount(name, senders);
  if (!created.ok) throw new Error(`account not created: ${JSON.stringify(created)}`);
  return created.value;
}

const json = { 'content-type': 'application/json' };
const sms = (from: string) =>
  JSON.stringify({
    from,
    to: '+18045550001',
    type: 'sms',
    body: 'hello',
    attachments: null,
    timestamp: '2024-11-01T14:00:00Z',
  });

/** The `name=value` of the session cookie a response sets, and its attributes. */
function sessionCookie(response: Response) {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('hatch_session='));
  if (!header) return null;
  const [pair = '', ...attributes] = header.split(';').map((p) => p.trim());
  return { pair, value: pair.slice('hatch_session='.length), attributes: attributes.map((a) => a.toLowerCase()) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await store.close();
  await db.drop();
});

describe('web inbox sign-in', () => {
  it('exchanges a key for an HttpOnly SameSite=Strict cookie that is not the key; GET says who; DELETE signs out', async () => {
    const acme = await createAccount('Acme', ['+12015550300']);
    const url = await serve();
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ apiKey: acme.apiKey }),
    });
    expect(signIn.status).toBe(200);
    expect(await signIn.json()).toMatchObject({ accountId: acme.accountId, name: 'Acme' });
    const cookie = sessionCookie(signIn);
    expect(cookie).not.toBeNull();
    expect(cookie?.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    expect(cookie?.attributes).not.toContain('secure'); // local mode: plain http on 127.0.0.1
    expect(cookie?.value).not.toContain(acme.apiKey);
    expect(decodeURIComponent(cookie?.value ?? '')).not.toContain(acme.apiKey.slice(8, 30));

    const headers = { cookie: cookie?.pair ?? '' };
    const who = await fetch(`${url}/api/session`, { headers });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ accountId: acme.accountId, name: 'Acme' });

    // A write with the cookie needs the CSRF header; with it, it acts as the account (its sender is owned).
    const bare = await fetch(`${url}/api/messages/sms`, {
      method: 'POST',
      headers: { ...headers, ...json },
      body: sms('+12015550300'),
    });
    expect(bare.status).toBe(403);
    expect(bare.headers.get('content-type')).toContain('application/problem+json');
    const sent = await fetch(`${url}/api/messages/sms`, {
      method: 'POST',
      headers: { ...headers, ...json, 'x-hatch-csrf': '1' },
      body: sms('+12015550300'),
    });
    expect(sent.status).toBe(202);
    const events = await store.readStream(`message-${((await sent.json()) as { id: string }).id}`);
    expect(events[0]?.data).toMatchObject({ clientId: acme.accountId });

    const out = await fetch(`${url}/api/session`, { method: 'DELETE', headers });
    expect(out.status).toBe(200);
    const cleared = sessionCookie(out);
    expect(cleared?.value).toBe('');
    expect(cleared?.attributes.some((a) => a.startsWith('expires=thu, 01 jan 1970') || a === 'max-age=0')).toBe(true);
    expect((await fetch(`${url}/api/session`)).status).toBe(401);
  });

  it('refuses bad, unknown and revoked keys and forged cookies with 401 problem+json', async () => {
    const acme = await createAccount('Refused', []);
    const url = await serve({ production: true });
    const post = (body: string, headers: Record<string, string> = json) =>
      fetch(`${url}/api/session`, { method: 'POST', headers, body });
    for (const [body, status] of [
      [JSON.stringify({ apiKey: `hk_live_${'x'.repeat(40)}` }), 401],
      [JSON.stringify({ apiKey: 'not-a-key' }), 401],
      [JSON.stringify({ key: acme.apiKey }), 400],
      [JSON.stringify({ apiKey: acme.apiKey, extra: 1 }), 400],
      ['not json', 400],
    ] as const) {
      const answer = await post(body);
      expect(answer.status, body).toBe(status);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(sessionCookie(answer)).toBeNull();
    }
    expect((await post(JSON.stringify({ apiKey: acme.apiKey }), { 'content-type': 'text/plain' })).status).toBe(415);

    const forged = Buffer.from(
      JSON.stringify({ a: acme.accountId, k: acme.keyId, iat: Math.floor(Date.now() / 1000) }),
    ).toString('base64url');
    for (const cookie of [`hatch_session=${forged}`, `hatch_session=${forged}.AAAA`, `hatch_session=${acme.apiKey}`]) {
      const answer = await fetch(`${url}/api/messages/sms`, {
        method: 'POST',
        headers: { ...json, cookie, 'x-hatch-csrf': '1' },
        body: sms('+12015550302'),
      });
      expect(answer.status, cookie).toBe(401);
      expect((await fetch(`${url}/api/session`, { headers: { cookie } })).status, cookie).toBe(401);
    }
  });

  it('in production: a Secure cookie; revoking its key ends the session within 1 s; without a cookie or key, 401', async () => {
    const acme = await createAccount('Revoked', ['+12015550301']);
    const url = await serve({ production: true });
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ apiKey: acme.apiKey }),
    });
    const cookie = sessionCookie(signIn);
    expect(cookie?.attributes).toContain('secure');
    const headers = { cookie: cookie?.pair ?? '' };
    const read = () => fetch(`${url}/api/session`, { headers }).then((r) => r.status);
    expect(await read()).toBe(200);
    const write = () =>
      fetch(`${url}/api/messages/sms`, {
        method: 'POST',
        headers: { ...headers, ...json, 'x-hatch-csrf': '1' },
        body: sms('+12015550301'),
      }).then((r) => r.status);
    expect(await write()).toBe(202);

    const revoked = await ops().revokeKey(acme.accountId, acme.keyId);
    expect(revoked.ok).toBe(true);
    const since = Date.now();
    let status = 202;
    while (status !== 401 && Date.now() - since < 1000) {
      status = await write();
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(401);
    expect(Date.now() - since).toBeLessThan(1000);
    expect(await read()).toBe(401);
    // Without a key or session nothing is open in production.
    expect(
      (await fetch(`${url}/api/messages/sms`, { method: 'POST', headers: json, body: sms('+12015550301') })).status,
    ).toBe(401);
  });
});

describe('live streams', () => {
  it('a stream opened with a key ends within a second of its revocation', async () => {
    const acme = await createAccount('Streaming', []);
    // A stand-in for the query API's SSE route, in the client scope like it.
    const url = await serve(
      {},
      {
        mountClientRoutes: async (scope) => {
          scope.get('/api/test-stream', (_request, reply) => {
            reply.hijack();
            reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
            reply.raw.write(': open\n\n');
          });
        },
      },
    );
    const stream = await fetch(`${url}/api/test-stream`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${acme.apiKey}` },
    });
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(': open');
    expect((await ops().revokeKey(acme.accountId, acme.keyId)).ok).toBe(true);
    const since = Date.now();
    const ended = await reader.read().then(
      (chunk) => chunk.done,
      () => true,
    );
    expect(ended).toBe(true);
    expect(Date.now() - since).toBeLessThan(1000);
  });
});

describe('webhook rate limit', () => {
  const inbound = (n: number) =>
    JSON.stringify({
      from: '+18045550002',
      to: '+12015550399',
      type: 'sms',
      messaging_provider_id: `rl-${n}-${randomUUID()}`,
      body: 'hi',
      attachments: null,
      timestamp: '2024-11-01T14:00:00Z',
    });

  it('limits each source address per second with a burst, answering 429 problem+json with Retry-After', async () => {
    const url = await serve({ webhookRateLimit: { perSecond: 2, burst: 3 } });
    const post = (n: number, path = '/api/webhooks/sms') =>
      fetch(`${url}${path}`, { method: 'POST', headers: json, body: inbound(n) });
    const statuses = [];
    for (let n = 0; n < 5; n++) statuses.push((await post(n)).status);
    expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
    const limited = await post(5);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { detail: string }).detail).toContain('127.0.0.1');
    // Any webhook path, including a provider's added later or an unknown one, draws from the same bucket.
    expect((await post(6, '/api/webhooks/twilio/sms')).status).toBe(429);
    // The command routes are not limited by it.
    expect(
      (await fetch(`${url}/api/messages/sms`, { method: 'POST', headers: json, body: sms('+12015550398') })).status,
    ).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post(7)).status).not.toBe(429);
  });

  it('is off by default in local mode, and documents 429 on every webhook route', async () => {
    const url = await serve();
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        fetch(`${url}/api/webhooks/sms`, { method: 'POST', headers: json, body: inbound(n) }).then((r) => r.status),
      ),
    );
    expect(statuses).not.toContain(429);
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const webhooks = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/webhooks/'));
    expect(webhooks.length).toBeGreaterThan(0);
    for (const [path, methods] of webhooks)
      for (const op of Object.values(methods)) expect(op.responses, path).toHaveProperty('429');
  });

  it('takes the source address from X-Forwarded-For only when TRUST_PROXY says so', async () => {
    const trusting = await serve({ webhookRateLimit: { perSecond: 1, burst: 1 }, trustProxy: true });
    const from = (ip: string, n: number) =>
      fetch(`${trusting}/api/webhooks/sms`, {
        method: 'POST',
        headers: { ...json, 'x-forwarded-for': ip },
        body: inbound(n),
      }).then((r) => r.status);
    expect(await from('203.0.113.1', 1)).not.toBe(429);
    expect(await from('203.0.113.1', 2)).toBe(429);
    expect(await from('203.0.113.2', 3)).not.toBe(429);

    const direct = await serve({ webhookRateLimit: { perSecond: 1, burst: 1 } });
    const spoof = (ip: string, n: number) =>
      fetch(`${direct}/api/webhooks/sms`, {
        method: 'POST',
        headers: { ...json, 'x-forwarded-for': ip },
        body: inbound(n),
      }).then((r) => r.status);
    expect(await spoof('203.0.113.3', 4)).not.toBe(429);
    expect(await spoof('203.0.113.4', 5)).toBe(429); // same peer, whatever the header claims
  });
});
