// Opt-out compliance on the command side, against real PostgreSQL: keywords from inbound SMS record
// consent changes and reply through the normal outbound path; sends to opted-out contacts get 422 and
// append nothing; the email provider's unsubscribe callback opts out of email from that sender.
import { consentReplies, consentReplyMessageId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandApi } from './app.ts';
import { defaultCommandApiConfig } from './config.ts';

const clock = { now: () => new Date('2024-11-01T14:00:05.000Z') };
const ours = '+12016661234';
const theirs = '+18045551234';
const send = (to = theirs, from = ours) => ({
  from,
  to,
  type: 'sms',
  body: 'Hello',
  attachments: null,
  timestamp: '2024-11-01T14:00:00Z',
});
let n = 0;
const inbound = (body: string, from = theirs, to = ours) => ({
  from,
  to,
  type: 'sms',
  messaging_provider_id: `consent-${++n}`,
  body,
  attachments: null,
  timestamp: '2024-11-01T14:01:00Z',
});

let db: TestDatabase;
let store: PostgresEventStore;
let sql: pg.Client;
let app: Awaited<ReturnType<typeof createCommandApi>>;

const eventsOfType = async (type: string) =>
  (await sql.query('SELECT stream_id, data FROM events WHERE event_type = $1', [type])).rows as {
    stream_id: string;
    data: Record<string, unknown>;
  }[];
const requestedCount = async () => (await eventsOfType('MessageRequested')).length;
const post = (url: string, payload: Record<string, unknown>) =>
  app.inject({
    method: 'POST',
    url,
    payload: JSON.stringify(payload),
    headers: { 'content-type': 'application/json' },
  });

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  app = await createCommandApi({
    eventStore: store,
    clock,
    logger: createLogger('consent-test', { level: 'silent' }),
    config: defaultCommandApiConfig({ appendTimeoutMs: 1500 }),
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  await sql?.end();
  await db?.drop();
});

describe('opt-out keywords', () => {
  it('STOP records the opt-out and confirms it; a send to that contact is 422 and appends nothing', async () => {
    expect((await post('/api/messages/sms', send())).statusCode).toBe(202);
    const stop = inbound(' stop! ');
    const received = await post('/api/webhooks/sms', stop);
    expect(received.statusCode).toBe(200);

    const [optedOut] = await eventsOfType('ContactOptedOut');
    expect(optedOut?.data).toMatchObject({ channel: 'sms', sender: ours, address: theirs, keyword: 'STOP' });
    const replyId = consentReplyMessageId(ours, theirs, 'opt_out', clock.now().toISOString());
    const replies = (await eventsOfType('MessageRequested')).filter((e) => e.stream_id === `message-${replyId}`);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.data).toMatchObject({
      from: ours,
      to: theirs,
      body: consentReplies.opt_out,
      purpose: 'consent_reply',
    });

    // The same webhook again (provider retry): nothing new.
    const before = Number((await sql.query('SELECT count(*)::int AS n FROM events')).rows[0].n);
    expect((await post('/api/webhooks/sms', stop)).statusCode).toBe(200);
    expect(Number((await sql.query('SELECT count(*)::int AS n FROM events')).rows[0].n)).toBe(before);

    const requested = await requestedCount();
    const refused = await post('/api/messages/sms', { ...send(), to: '(804) 555-1234' });
    expect(refused.statusCode).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ type: 'https://hatch.dev/problems/recipient-opted-out', status: 422 });
    // MMS shares SMS consent.
    const mms = { ...send(), type: 'mms', attachments: ['https://example.com/a.png'] };
    expect((await post('/api/messages/sms', mms)).statusCode).toBe(422);
    expect(await requestedCount()).toBe(requested);

    // Another of our numbers may still write to them; and we may still write to others.
    expect((await post('/api/messages/sms', send(theirs, '+12016669999'))).statusCode).toBe(202);
    expect((await post('/api/messages/sms', send('+18045550000'))).statusCode).toBe(202);
  });

  it('START restores sending and confirms; HELP answers without changing consent', async () => {
    expect((await post('/api/webhooks/sms', inbound('Start'))).statusCode).toBe(200);
    expect(await eventsOfType('ContactOptedIn')).toHaveLength(1);
    expect((await post('/api/messages/sms', send())).statusCode).toBe(202);

    const help = inbound('HELP');
    expect((await post('/api/webhooks/sms', help)).statusCode).toBe(200);
    const replyId = consentReplyMessageId(ours, theirs, 'help', clock.now().toISOString());
    const [reply] = (await eventsOfType('MessageRequested')).filter((e) => e.stream_id === `message-${replyId}`);
    expect(reply?.data.body).toBe(consentReplies.help);
    expect((await post('/api/messages/sms', send())).statusCode).toBe(202);
    // Not a keyword: just a message.
    expect((await post('/api/webhooks/sms', inbound('please stop calling me'))).statusCode).toBe(200);
    expect(await eventsOfType('ContactOptedOut')).toHaveLength(1);
  });

  it('an idempotent retry of a send accepted before the opt-out replays its first answer', async () => {
    const first = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: send('+18045557777'),
      headers: { 'idempotency-key': 'before-stop' },
    });
    expect(first.statusCode).toBe(202);
    await post('/api/webhooks/sms', inbound('STOP', '+18045557777'));
    const again = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: send('+18045557777'),
      headers: { 'idempotency-key': 'before-stop' },
    });
    expect(again.statusCode).toBe(202);
    expect(again.json().id).toBe(first.json().id);
  });
});

describe('email unsubscribe callback', () => {
  const mail = (to: string) => ({
    from: 'user@usehatchapp.com',
    to,
    body: 'news',
    attachments: null,
    timestamp: '2024-11-01T14:00:00Z',
  });

  it('opts the address out of email from that sender only', async () => {
    const callback = {
      xillio_event_id: 'unsub-1',
      email: '[Reader@Gmail.com](mailto:Reader@Gmail.com)',
      sender: 'User@UseHatchApp.com',
      timestamp: '2024-11-01T14:03:00Z',
    };
    const answer = await post('/api/webhooks/email/unsubscribe', callback);
    expect(answer.statusCode).toBe(200);
    expect(answer.json().event).toBe('ContactOptedOut');
    expect((await post('/api/webhooks/email/unsubscribe', callback)).statusCode).toBe(200);
    expect((await eventsOfType('ContactOptedOut')).filter((e) => e.data.channel === 'email')).toHaveLength(1);

    const requested = await requestedCount();
    const refused = await post('/api/messages/email', mail('reader@gmail.com'));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().type).toBe('https://hatch.dev/problems/recipient-opted-out');
    expect(await requestedCount()).toBe(requested);
    expect(
      (await post('/api/messages/email', { ...mail('reader@gmail.com'), from: 'other@usehatchapp.com' })).statusCode,
    ).toBe(202);
    expect((await post('/api/webhooks/email/unsubscribe', { ...callback, email: 'not an email' })).statusCode).toBe(
      400,
    );
  });
});
