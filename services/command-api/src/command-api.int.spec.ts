import { type AddressInfo, createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { accountConversationIdFor, inboundMessageId, localAccountId, outboundMessageId } from '@hatch/domain';
import { type EventStore, PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createLogger, webhookHeaders } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandApi } from './app.ts';
import { type CommandApiConfig, defaultCommandApiConfig } from './config.ts';

const now = new Date('2024-11-01T14:00:05.000Z');
const clock = { now: () => now };
const silent = createLogger('command-api-test', { level: 'silent' });

const sms = {
  from: '+12016661234',
  to: '+18045551234',
  type: 'sms',
  body: 'Hello from Hatch',
  attachments: null,
  timestamp: '2024-11-01T14:00:00Z',
};
const email = {
  from: '[User@UseHatchApp.com](mailto:User@UseHatchApp.com)',
  to: 'Contact@Gmail.com',
  body: '<html><body>Hi <b>there</b></body></html>',
  attachments: ['https://cdn.example.com/a.pdf'],
  timestamp: '2024-11-01T14:00:00Z',
};
const inboundSms = {
  from: '+18045551234',
  to: '+12016661234',
  type: 'sms',
  messaging_provider_id: 'message-1',
  body: 'a reply',
  attachments: null,
  timestamp: '2024-11-01T14:01:00Z',
};
const inboundEmail = {
  from: '[Contact@Gmail.com](mailto:Contact@Gmail.com)',
  to: 'user@usehatchapp.com',
  xillio_id: 'message-2',
  body: '<html><body>reply</body></html>',
  attachments: null,
  timestamp: '2024-11-01T14:02:00Z',
};

let db: TestDatabase;
let store: PostgresEventStore;
let sql: pg.Client;
const apps: Awaited<ReturnType<typeof createCommandApi>>[] = [];

async function api(config: Partial<CommandApiConfig> = {}, eventStore: EventStore = store, logger = silent) {
  const app = await createCommandApi({
    eventStore,
    clock,
    logger,
    config: defaultCommandApiConfig({ appendTimeoutMs: 1500, ...config }),
  });
  apps.push(app);
  await app.ready();
  return app;
}

const eventCount = async () => Number((await sql.query('SELECT count(*)::int AS n FROM events')).rows[0].n);

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await store.close();
  await sql.end();
  await db.drop();
});

describe('sending', () => {
  it('accepts an SMS once MessageRequested is durable, with the request id as correlation id', async () => {
    const app = await api();
    const res = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers: { 'x-request-id': 'req-sms-1' },
      payload: { ...sms, to: '+1 (804) 555-1234' },
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(String),
      conversationId: accountConversationIdFor(localAccountId, ['+12016661234', '+18045551234']),
      status: 'queued',
      position: expect.any(String),
      idempotencyKey: expect.stringMatching(/^hatch-/),
    });
    const [event] = await store.readStream(`message-${body.id}`);
    expect(event?.position).toBe(body.position);
    expect(event?.type).toBe('MessageRequested');
    expect(event?.data).toMatchObject({
      channel: 'sms',
      to: '+18045551234',
      segments: 1,
      clientId: localAccountId,
      requestedAt: now.toISOString(),
      attachments: [],
    });
    expect(event?.metadata).toEqual({
      correlationId: 'req-sms-1',
      causationId: null,
      idempotencyKey: body.idempotencyKey,
      actor: localAccountId,
      schemaVersion: 2,
    });
  });

  it('sends MMS (type mms or inferred from attachments) and email with normalised addresses', async () => {
    const app = await api();
    const mms = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: { ...sms, type: null, body: '', attachments: ['https://cdn.example.com/cat.jpg'] },
    });
    expect(mms.statusCode).toBe(202);
    expect((await store.readStream(`message-${mms.json().id}`))[0]?.data).toMatchObject({ channel: 'mms' });

    const mail = await app.inject({
      method: 'POST',
      url: '/api/messages/email',
      payload: { ...email, subject: 'Hello', cc: ['CC@Example.com'], bcc: [], reply_to: 'Reply@UseHatchApp.com' },
    });
    expect(mail.statusCode).toBe(202);
    expect(mail.json().conversationId).toBe(
      accountConversationIdFor(localAccountId, ['contact@gmail.com', 'user@usehatchapp.com']),
    );
    expect((await store.readStream(`message-${mail.json().id}`))[0]?.data).toMatchObject({
      channel: 'email',
      from: 'user@usehatchapp.com',
      to: 'contact@gmail.com',
      subject: 'Hello',
      cc: ['cc@example.com'],
      replyTo: 'reply@usehatchapp.com',
      body: email.body,
    });
  });

  it('puts A→B and the reply B→A in one conversation', async () => {
    const app = await api();
    const out = await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms });
    const back = await app.inject({
      method: 'POST',
      url: '/api/webhooks/sms',
      payload: { ...inboundSms, messaging_provider_id: 'conv-1' },
    });
    expect(back.statusCode).toBe(200);
    expect(back.json().conversationId).toBe(out.json().conversationId);
  });
});

describe('idempotency', () => {
  it('replays the first answer for the same key and body, and appends nothing', async () => {
    const app = await api();
    const headers = { 'idempotency-key': 'order-42' };
    const first = await app.inject({ method: 'POST', url: '/api/messages/sms', headers, payload: sms });
    expect(first.statusCode).toBe(202);
    expect(first.json().id).toBe(outboundMessageId(localAccountId, 'order-42'));
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const before = await eventCount();
    // Same JSON value, different key order: still the same request.
    const reordered = Object.fromEntries(Object.entries(sms).reverse());
    const again = await app.inject({ method: 'POST', url: '/api/messages/sms', headers, payload: reordered });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await eventCount()).toBe(before);
    const [event] = await store.readStream(`message-${first.json().id}`);
    expect(event?.metadata.idempotencyKey).toBe('order-42');
  });

  it('answers 422 for the same key with a different body', async () => {
    const app = await api();
    const headers = { 'idempotency-key': 'order-43' };
    expect((await app.inject({ method: 'POST', url: '/api/messages/sms', headers, payload: sms })).statusCode).toBe(
      202,
    );
    const before = await eventCount();
    const other = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers,
      payload: { ...sms, body: 'changed' },
    });
    expect(other.statusCode).toBe(422);
    expect(other.headers['content-type']).toContain('application/problem+json');
    // The same key on the other channel is a different request too.
    const mail = await app.inject({ method: 'POST', url: '/api/messages/email', headers, payload: email });
    expect(mail.statusCode).toBe(422);
    expect(await eventCount()).toBe(before);
  });

  it('answers 409 with Retry-After while the first request with the key is in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: EventStore = Object.create(store);
    slow.append = async (...args) => {
      await gate;
      return store.append(...args);
    };
    const app = await api({}, slow);
    const headers = { 'idempotency-key': 'order-44' };
    const first = app.inject({ method: 'POST', url: '/api/messages/sms', headers, payload: sms });
    await new Promise((r) => setTimeout(r, 50));
    const second = await app.inject({ method: 'POST', url: '/api/messages/sms', headers, payload: sms });
    expect(second.statusCode).toBe(409);
    expect(second.headers['retry-after']).toBe('1');
    release();
    expect((await first).statusCode).toBe(202);
    const third = await app.inject({ method: 'POST', url: '/api/messages/sms', headers, payload: sms });
    expect(third.headers['idempotent-replayed']).toBe('true');
  });

  it('scopes keys per client', async () => {
    const app = await api({
      apiKeys: new Map([
        ['key-alpha-123', 'alpha'],
        ['key-beta-4567', 'beta'],
      ]),
    });
    const send = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/api/messages/sms',
        headers: { authorization: `Bearer ${key}`, 'idempotency-key': 'shared-key' },
        payload: sms,
      });
    const a = await send('key-alpha-123');
    const b = await send('key-beta-4567');
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(a.json().id).not.toBe(b.json().id);
    expect((await store.readStream(`message-${b.json().id}`))[0]?.metadata.actor).toBe('beta');
  });
});

describe('inbound webhooks', () => {
  it('records an inbound SMS once; a re-delivery answers 200 and appends nothing', async () => {
    const app = await api();
    const first = await app.inject({ method: 'POST', url: '/api/webhooks/sms', payload: inboundSms });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id: inboundMessageId('messaging-provider', 'message-1'), status: 'received' });
    const before = await eventCount();
    const again = await app.inject({ method: 'POST', url: '/api/webhooks/sms', payload: inboundSms });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(await eventCount()).toBe(before);
    const [event] = await store.readStream(`message-${first.json().id}`);
    expect(event?.metadata.actor).toBe('messaging-provider');
    expect(event?.data).toMatchObject({
      provider: 'messaging-provider',
      providerMessageId: 'message-1',
      channel: 'sms',
    });
  });

  it('records an inbound email with unwrapped, lower-cased addresses', async () => {
    const app = await api();
    const res = await app.inject({ method: 'POST', url: '/api/webhooks/email', payload: inboundEmail });
    expect(res.statusCode).toBe(200);
    const [event] = await store.readStream(`message-${res.json().id}`);
    expect(event?.data).toMatchObject({
      from: 'contact@gmail.com',
      provider: 'xillio',
      providerMessageId: 'message-2',
    });
  });
});

describe('delivery receipts', () => {
  it('turns SMS status callbacks into MessageDelivered / MessageUndelivered, once each', async () => {
    const app = await api();
    const id = (await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms })).json().id;
    const receipt = {
      messaging_provider_id: 'pm-1',
      message_id: id,
      status: 'delivered',
      error_code: null,
      timestamp: '2024-11-01T14:00:09Z',
    };
    const res = await app.inject({ method: 'POST', url: '/api/webhooks/sms/status', payload: receipt });
    expect(res.statusCode).toBe(200);
    // No MessageSent names pm-1 yet (no dispatcher runs here): the receipt is recorded, as the provider said
    // it, but held: the message is not delivered until a MessageSent records that provider message id.
    expect(res.json()).toMatchObject({ id, event: 'MessageDelivered', applied: false });
    const before = await eventCount();
    expect((await app.inject({ method: 'POST', url: '/api/webhooks/sms/status', payload: receipt })).statusCode).toBe(
      200,
    );
    expect(await eventCount()).toBe(before);
    const failed = await app.inject({
      method: 'POST',
      url: '/api/webhooks/sms/status',
      payload: { ...receipt, status: 'failed', error_code: '30003' },
    });
    expect(failed.json().event).toBe('MessageUndelivered');
    const stream = await store.readStream(`message-${id}`);
    expect(stream.map((e) => e.type)).toEqual(['MessageRequested', 'MessageDelivered', 'MessageUndelivered']);
    expect(stream[2]?.data).toMatchObject({ errorCode: '30003', reason: 'failed', provider: 'messaging-provider' });
  });

  it('turns email events into receipts and answers 404 for an unknown message', async () => {
    const app = await api();
    const id = (await app.inject({ method: 'POST', url: '/api/messages/email', payload: email })).json().id;
    const bounced = await app.inject({
      method: 'POST',
      url: '/api/webhooks/email/status',
      payload: {
        xillio_id: 'x-1',
        message_id: id,
        status: 'bounced',
        reason: 'mailbox full',
        timestamp: '2024-11-01T14:00:09Z',
      },
    });
    expect(bounced.statusCode).toBe(200);
    expect((await store.readStream(`message-${id}`))[1]?.data).toMatchObject({
      reason: 'bounced: mailbox full',
      provider: 'xillio',
    });
    const before = await eventCount();
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/webhooks/email/status',
      payload: {
        xillio_id: 'x-2',
        message_id: '00000000-0000-4000-8000-000000000000',
        status: 'delivered',
        reason: null,
        timestamp: '2024-11-01T14:00:09Z',
      },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(await eventCount()).toBe(before);
  });
});

describe('trust at the edges', () => {
  const secret = 'whsec_int_test';

  it('verifies webhook signatures when a secret is configured', async () => {
    const app = await api({ webhookSecret: secret });
    const raw = JSON.stringify({ ...inboundSms, messaging_provider_id: 'signed-1' });
    const post = (headers: Record<string, string>, payload = raw) =>
      app.inject({
        method: 'POST',
        url: '/api/webhooks/sms',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    const before = await eventCount();
    const cases = {
      unsigned: await post({}),
      wrongSecret: await post(webhookHeaders('other-secret', raw, now.getTime())),
      expired: await post(webhookHeaders(secret, raw, now.getTime() - 600_000)),
      tampered: await post(webhookHeaders(secret, raw, now.getTime()), raw.replace('a reply', 'a trick')),
      malformed: await post({ 'x-hatch-timestamp': 'yesterday', 'x-hatch-signature': 'v1=zz' }),
    };
    for (const [name, res] of Object.entries(cases)) {
      expect(res.statusCode, name).toBe(401);
      expect(res.json().type, name).toBe('https://hatch.dev/problems/invalid-signature');
    }
    const receipt = JSON.stringify({
      messaging_provider_id: 'p',
      message_id: '00000000-0000-4000-8000-000000000000',
      status: 'delivered',
      error_code: null,
      timestamp: '2024-11-01T14:00:09Z',
    });
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/webhooks/sms/status',
          headers: { 'content-type': 'application/json' },
          payload: receipt,
        })
      ).statusCode,
    ).toBe(401);
    expect(await eventCount()).toBe(before);
    const ok = await post(webhookHeaders(secret, raw, now.getTime()));
    expect(ok.statusCode).toBe(200);
    // Sends are not webhooks: no signature needed.
    expect((await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms })).statusCode).toBe(202);
  });

  it('requires a Bearer API key on command routes when keys are configured', async () => {
    const app = await api({ apiKeys: new Map([['sk_test_abcdef', 'acme']]) });
    const before = await eventCount();
    const none = await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers: { authorization: 'Bearer nope-nope-nope' },
      payload: sms,
    });
    expect(wrong.statusCode).toBe(401);
    expect(await eventCount()).toBe(before);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers: { authorization: 'Bearer sk_test_abcdef' },
      payload: sms,
    });
    expect(ok.statusCode).toBe(202);
    expect((await store.readStream(`message-${ok.json().id}`))[0]?.data).toMatchObject({ clientId: 'acme' });
    // Webhooks are providers, not clients: no API key.
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/webhooks/sms',
          payload: { ...inboundSms, messaging_provider_id: 'k-1' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('rate-limits per client with 429, Retry-After and RateLimit headers', async () => {
    const app = await api({ rateLimit: { perSecond: 0.5, burst: 2 } });
    const send = () => app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms });
    const first = await send();
    expect(first.statusCode).toBe(202);
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect((await send()).statusCode).toBe(202);
    const before = await eventCount();
    const limited = await send();
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(await eventCount()).toBe(before);
  });
});

describe('bad input gets 400 problem+json naming the field, and appends nothing', () => {
  const big = 'x'.repeat(2 * 1024 * 1024);
  const media = (n: number) => Array.from({ length: n }, (_, i) => `https://cdn.example.com/${i}.jpg`);
  const cases: {
    name: string;
    url: string;
    payload?: unknown;
    raw?: string;
    type?: string;
    status?: number;
    field?: string;
    fields?: string[];
  }[] = [
    { name: 'unknown field', url: '/api/messages/sms', payload: { ...sms, priority: 'high' }, field: 'body.priority' },
    {
      name: 'two unknown fields and a bad one, all named',
      url: '/api/messages/email',
      payload: { ...email, priority: 'high', track: true, subject: 7 },
      fields: ['body.priority', 'body.track', 'body.subject'],
    },
    { name: 'wrong type', url: '/api/messages/sms', payload: { ...sms, body: 42 }, field: 'body.body' },
    { name: 'unknown type value', url: '/api/messages/sms', payload: { ...sms, type: 'fax' }, field: 'body.type' },
    { name: 'missing field', url: '/api/messages/sms', payload: { ...sms, to: undefined }, field: 'body.to' },
    { name: 'invalid phone', url: '/api/messages/sms', payload: { ...sms, to: '+1555' }, field: 'body.to' },
    {
      name: 'email address on sms',
      url: '/api/messages/sms',
      payload: { ...sms, from: 'a@b.com' },
      field: 'body.from',
    },
    { name: 'invalid email', url: '/api/messages/email', payload: { ...email, to: 'not-an-email' }, field: 'body.to' },
    {
      name: 'invalid cc',
      url: '/api/messages/email',
      payload: { ...email, cc: ['ok@x.com', 'bad'] },
      field: 'body.cc.1',
    },
    { name: 'empty message body', url: '/api/messages/sms', payload: { ...sms, body: '' }, field: 'body.body' },
    { name: 'sms too long', url: '/api/messages/sms', payload: { ...sms, body: 'x'.repeat(1601) }, field: 'body.body' },
    {
      name: 'too many attachments',
      url: '/api/messages/sms',
      payload: { ...sms, type: 'mms', attachments: media(11) },
      field: 'body.attachments',
    },
    {
      name: 'attachment not a URL',
      url: '/api/messages/sms',
      payload: { ...sms, type: 'mms', attachments: ['cat.jpg'] },
      field: 'body.attachments.0',
    },
    {
      name: 'timestamp before 1970',
      url: '/api/messages/sms',
      payload: { ...sms, timestamp: '1969-12-31T23:59:59Z' },
      field: 'body.timestamp',
    },
    {
      name: 'timestamp garbage',
      url: '/api/messages/sms',
      payload: { ...sms, timestamp: 'yesterday' },
      field: 'body.timestamp',
    },
    {
      name: 'impossible date',
      url: '/api/messages/email',
      payload: { ...email, timestamp: '2024-13-45T14:00:00Z' },
      field: 'body.timestamp',
    },
    { name: 'array body', url: '/api/messages/sms', payload: [sms] },
    { name: 'empty request body', url: '/api/messages/sms', raw: '', type: 'application/json' },
    { name: 'malformed JSON', url: '/api/messages/sms', raw: '{"from":', type: 'application/json' },
    {
      name: 'wrong content type',
      url: '/api/messages/sms',
      raw: 'from=+12016661234',
      type: 'application/x-www-form-urlencoded',
      status: 415,
    },
    { name: 'text body', url: '/api/messages/email', raw: 'hello', type: 'text/plain', status: 415 },
    { name: 'oversized body', url: '/api/messages/email', payload: { ...email, body: big }, status: 413 },
    {
      name: 'webhook: missing provider id',
      url: '/api/webhooks/sms',
      payload: { ...inboundSms, messaging_provider_id: undefined },
      field: 'body.messaging_provider_id',
    },
    { name: 'webhook: empty body', url: '/api/webhooks/sms', raw: '', type: 'application/json' },
    { name: 'webhook: malformed JSON', url: '/api/webhooks/email', raw: '{', type: 'application/json' },
    { name: 'webhook: wrong content type', url: '/api/webhooks/email', raw: 'x', type: 'text/plain', status: 415 },
    { name: 'webhook: oversized', url: '/api/webhooks/email', payload: { ...inboundEmail, body: big }, status: 413 },
    {
      name: 'webhook: invalid email',
      url: '/api/webhooks/email',
      payload: { ...inboundEmail, from: 'nobody' },
      field: 'body.from',
    },
    {
      name: 'receipt: status unknown',
      url: '/api/webhooks/sms/status',
      payload: {
        messaging_provider_id: 'p',
        message_id: '00000000-0000-4000-8000-000000000000',
        status: 'read',
        error_code: null,
        timestamp: '2024-11-01T14:00:09Z',
      },
      field: 'body.status',
    },
    // Found by bin/fuzz: PostgreSQL's jsonb cannot store these, so the append failed with 503.
    { name: 'NUL in the body', url: '/api/messages/sms', payload: { ...sms, body: 'a\u0000b' }, field: 'body.body' },
    {
      name: 'receipt: unpaired surrogate in the reason',
      url: '/api/webhooks/email/status',
      payload: {
        xillio_id: 'x',
        message_id: '00000000-0000-4000-8000-000000000000',
        status: 'bounced',
        reason: 'full \ud83e',
        timestamp: '2024-11-01T14:00:09Z',
      },
      field: 'body.reason',
    },
    {
      name: 'receipt: message id not a uuid',
      url: '/api/webhooks/email/status',
      payload: {
        xillio_id: 'x',
        message_id: '42',
        status: 'delivered',
        reason: null,
        timestamp: '2024-11-01T14:00:09Z',
      },
      field: 'body.message_id',
    },
  ];

  let app: Awaited<ReturnType<typeof createCommandApi>>;
  beforeAll(async () => {
    app = await api({ bodyLimit: 1024 * 1024 });
  });

  for (const c of cases) {
    it(c.name, async () => {
      const before = await eventCount();
      const res = await app.inject({
        method: 'POST',
        url: c.url,
        ...(c.raw !== undefined
          ? { payload: c.raw, headers: { 'content-type': c.type as string } }
          : { payload: c.payload as object }),
      });
      expect(res.statusCode).toBe(c.status ?? 400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const named = res.json().errors?.map((e: { field: string }) => e.field);
      if (c.field) expect(named).toContain(c.field);
      if (c.fields) expect(named).toEqual(expect.arrayContaining(c.fields));
      expect(await eventCount()).toBe(before);
    });
  }

  it('rejects a malformed Idempotency-Key', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers: { 'idempotency-key': 'x'.repeat(300) },
      payload: sms,
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('operations', () => {
  it('serves health, readiness, metrics, the OpenAPI document and Swagger UI', async () => {
    const app = await api();
    await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms });
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/ready' })).json()).toEqual({ status: 'ready' });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('hatch_command_appends_total{type="MessageRequested",outcome="appended"');
    expect(metrics).toContain('http_request_duration_seconds_bucket');
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    for (const path of [
      '/api/messages/sms',
      '/api/messages/email',
      '/api/webhooks/sms',
      '/api/webhooks/email',
      '/api/webhooks/sms/status',
      '/api/webhooks/email/status',
    ])
      expect(doc.paths[path]?.post, path).toBeDefined();
    const docs = await app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('answers 503 with Retry-After fast, and /ready false, when PostgreSQL is unreachable', async () => {
    const down = new PostgresEventStore({
      connectionString: `postgres://postgres:postgres@127.0.0.1:${await freePort()}/none`,
    });
    const app = await api({ appendTimeoutMs: 1000 }, down);
    const started = Date.now();
    const res = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      headers: { 'idempotency-key': 'down-1' },
      payload: sms,
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toContain('application/problem+json');
    const hook = await app.inject({ method: 'POST', url: '/api/webhooks/sms', payload: inboundSms });
    expect(hook.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(2500);
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(503);
    await down.close();
  });

  it('answers 503 within the deadline when PostgreSQL accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const blackhole = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const { port } = blackhole.address() as AddressInfo;
    const hung = new PostgresEventStore({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/none` });
    const app = await api({ appendTimeoutMs: 300 }, hung);
    const started = Date.now();
    const res = await app.inject({ method: 'POST', url: '/api/messages/sms', payload: sms });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(Date.now() - started).toBeLessThan(1500);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => blackhole.close(resolve));
    await hung.close();
  });

  it('never logs full phone numbers, emails or message bodies', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const app = await api({}, store, createLogger('command-api-test', { level: 'debug', destination }));
    await app.inject({ method: 'POST', url: '/api/messages/sms', payload: { ...sms, body: 'top secret words' } });
    await app.inject({ method: 'POST', url: '/api/messages/email', payload: email });
    await app.inject({ method: 'POST', url: '/api/messages/sms', payload: { ...sms, to: '+1555' } });
    const out = lines.join('');
    expect(out).toContain('message requested');
    for (const secret of [
      '+18045551234',
      '+12016661234',
      'contact@gmail.com',
      'user@usehatchapp.com',
      'top secret words',
    ])
      expect(out).not.toContain(secret);
  });
});
