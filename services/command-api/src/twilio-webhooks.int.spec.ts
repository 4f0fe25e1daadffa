// Twilio's inbound webhooks against real PostgreSQL: form-encoded, X-Twilio-Signature computed here with
// node:crypto (Twilio's documented algorithm), 403 and nothing appended on a bad or missing signature.
import { createHmac } from 'node:crypto';
import { inboundMessageId } from '@hatch/domain';
import type { PostgresEventStore } from '@hatch/event-store';
import { messageSent, newMessageEvent, providerMessageLinkEvent } from '@hatch/testing/events';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandApiConfigSchema } from './config.ts';
import { type CommandApiOnTestDatabase, commandApiOnTestDatabase } from './testing/on-test-database.ts';

const clock = { now: () => new Date('2024-11-01T14:00:05.000Z') };
const token = 'twilio_auth_token_current';
const previous = 'twilio_auth_token_previous';
const base = 'https://hatch.example.com';

/** Twilio's algorithm, written out here: URL, then each POST parameter name+value sorted by name, HMAC-SHA1. */
const sign = (authToken: string, url: string, fields: Record<string, string>) =>
  createHmac('sha1', authToken)
    .update(
      url +
        Object.keys(fields)
          .sort()
          .map((k) => k + fields[k])
          .join(''),
    )
    .digest('base64');

let store: PostgresEventStore;
let sql: pg.Client;
let app: CommandApiOnTestDatabase['app'];
let under: CommandApiOnTestDatabase | undefined;

beforeAll(async () => {
  under = await commandApiOnTestDatabase({
    name: 'twilio-webhooks-test',
    clock,
    config: { twilio: { enabled: true, authTokens: [token, previous] }, publicBaseUrl: base },
  });
  ({ store, sql, app } = under);
});

afterAll(async () => {
  await under?.close();
});

const eventCount = async () => Number((await sql.query('SELECT count(*)::int AS n FROM events')).rows[0].n);

// Field names and shapes as in Twilio's "incoming message webhook" documentation.
const incoming = {
  ToCountry: 'US',
  SmsMessageSid: 'SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d',
  NumMedia: '1',
  MessageSid: 'SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d',
  AccountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
  From: '+14155552345',
  To: '+12016661234',
  Body: 'Hello from my phone',
  MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME',
  MediaContentType0: 'image/jpeg',
  NumSegments: '1',
  ApiVersion: '2010-04-01',
};

const post = (path: string, fields: Record<string, string>, signature: string | null) =>
  app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    payload: new URLSearchParams(fields).toString(),
  });

describe('Twilio webhooks', () => {
  it('takes an incoming MMS with a valid signature, answers empty TwiML and appends MessageReceived', async () => {
    const path = '/api/webhooks/twilio/messages';
    const res = await post(path, incoming, sign(token, base + path, incoming));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    const id = inboundMessageId('twilio', incoming.MessageSid);
    const [event] = await store.readStream(`message-${id}`);
    expect(event).toMatchObject({
      type: 'MessageReceived',
      data: {
        channel: 'mms',
        from: '+14155552345',
        to: '+12016661234',
        body: 'Hello from my phone',
        attachments: [incoming.MediaUrl0],
        provider: 'twilio',
        providerMessageId: incoming.MessageSid,
      },
    });
    // A re-delivery is the same event.
    const before = await eventCount();
    expect((await post(path, incoming, sign(token, base + path, incoming))).statusCode).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it('accepts the previous auth token during a rotation', async () => {
    const path = '/api/webhooks/twilio/messages';
    const fields = { ...incoming, MessageSid: 'SM00000000000000000000000000000002', NumMedia: '0' };
    expect((await post(path, fields, sign(previous, base + path, fields))).statusCode).toBe(200);
  });

  it('answers 403 and appends nothing on a missing, wrong or tampered signature', async () => {
    const path = '/api/webhooks/twilio/messages';
    const fields = { ...incoming, MessageSid: 'SM00000000000000000000000000000003' };
    const before = await eventCount();
    expect((await post(path, fields, null)).statusCode).toBe(403);
    expect((await post(path, fields, sign('not-our-token', base + path, fields))).statusCode).toBe(403);
    const signed = sign(token, base + path, fields);
    expect((await post(path, { ...fields, Body: 'tampered' }, signed)).statusCode).toBe(403);
    // Signed for another URL (the request's own host instead of PUBLIC_BASE_URL).
    expect((await post(path, fields, sign(token, `http://localhost${path}`, fields))).statusCode).toBe(403);
    expect(await eventCount()).toBe(before);
  });

  it('turns a delivered status callback into MessageDelivered and acknowledges progress statuses', async () => {
    const sent = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: {
        from: '+12016661234',
        to: '+14155552345',
        type: 'sms',
        body: 'hi',
        attachments: null,
        timestamp: '2024-11-01T14:00:00Z',
      },
    });
    const id = sent.json().id as string;
    const sid = 'SM00000000000000000000000000000009';
    await store.append(
      `message-${id}`,
      [
        {
          id: '0195f1f2-7c3a-7d40-9e2a-4c1d3a7164ff',
          type: 'MessageSent',
          data: {
            messageId: id,
            provider: 'twilio',
            providerMessageId: sid,
            attempt: 1,
            sentAt: '2024-11-01T14:00:01Z',
          },
          metadata: { correlationId: id, causationId: null, actor: 'dispatcher', schemaVersion: 1 },
        },
      ],
      0,
    );
    const path = `/api/webhooks/twilio/status?messageId=${id}`;
    const progress = { MessageSid: sid, MessageStatus: 'sent', AccountSid: incoming.AccountSid };
    expect((await post(path, progress, sign(token, base + path, progress))).statusCode).toBe(200);
    const delivered = { ...progress, MessageStatus: 'delivered' };
    expect((await post(path, delivered, sign(token, base + path, delivered))).statusCode).toBe(200);
    const stream = await store.readStream(`message-${id}`);
    expect(stream.map((e) => e.type)).toEqual(['MessageRequested', 'MessageSent', 'MessageDelivered']);
    expect(stream[2]?.data).toMatchObject({ provider: 'twilio', providerMessageId: sid });
    // The query string is part of what Twilio signs.
    const other = `/api/webhooks/twilio/status?messageId=${id}&x=1`;
    expect((await post(other, delivered, sign(token, base + path, delivered))).statusCode).toBe(403);
  });

  it('matches a console-configured status callback (no ?messageId=) by MessageSid; an unknown one is ignored', async () => {
    const sent = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: { from: '+12016661234', to: '+14155552345', type: 'sms', body: 'hi', attachments: null },
    });
    const id = sent.json().id as string;
    const sid = 'SM0000000000000000000000000000000a';
    const link = providerMessageLinkEvent('twilio', sid, id);
    await store.append(link.streamId, [link.event]);
    await store.append(
      `message-${id}`,
      [newMessageEvent('MessageSent', messageSent(id, { providerMessageId: sid }))],
      0,
    );
    const path = '/api/webhooks/twilio/status';
    const delivered = { MessageSid: sid, MessageStatus: 'delivered', AccountSid: incoming.AccountSid };
    const res = await post(path, delivered, sign(token, base + path, delivered));
    expect(res.statusCode).toBe(200);
    const stream = await store.readStream(`message-${id}`);
    expect(stream.map((e) => e.type)).toEqual(['MessageRequested', 'MessageSent', 'MessageDelivered']);
    expect(stream[2]?.data).toMatchObject({ messageId: id, providerMessageId: sid });

    // A MessageSid no send of ours has: acknowledged (Twilio retries any non-2xx), nothing appended.
    const before = await eventCount();
    const unknown = { ...delivered, MessageSid: 'SM0000000000000000000000000000000b' };
    const ignored = await post(path, unknown, sign(token, base + path, unknown));
    expect(ignored.statusCode).toBe(200);
    expect(ignored.headers['content-type']).toMatch(/text\/xml/);
    expect(await eventCount()).toBe(before);
  });

  it('refuses to start in production with Twilio webhooks enabled and no auth token', () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x@localhost/x',
      WEBHOOK_SECRET: 's',
      OPERATOR_TOKEN: 'o'.repeat(16),
      WEBHOOK_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    const refused = commandApiConfigSchema.safeParse({ ...env, TWILIO_WEBHOOKS: 'true' });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toMatch(/TWILIO_AUTH_TOKEN/);
    expect(
      commandApiConfigSchema.safeParse({ ...env, TWILIO_WEBHOOKS: 'true', TWILIO_AUTH_TOKEN: token }).success,
    ).toBe(true);
  });
});
