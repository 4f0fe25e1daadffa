// SendGrid's inbound webhooks over real HTTP against real PostgreSQL. Event Webhook signatures are made
// here with node:crypto (ECDSA P-256/SHA-256 over `<timestamp><raw body>`, as SendGrid's "Getting Started
// with the Event Webhook Security Features" describes), not with the code under test. Payloads follow
// SendGrid's documentation:
// - Event Webhook Reference, https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
//   (its example batch: `processed`, `deferred`, `delivered`, `bounce`, `unsubscribe` with
//   "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "category": "cat facts", unix `timestamp`s);
// - Inbound Parse, https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
//   (multipart/form-data with headers, dkim, to, from, html, text, sender_ip, envelope, attachments,
//   subject, spam_score, attachment-info, charsets, SPF; files as attachment1…N).
import { generateKeyPairSync, sign } from 'node:crypto';
import { consentStreamId, inboundMessageId } from '@hatch/domain';
import type { PostgresEventStore } from '@hatch/event-store';
import { messageSent, newMessageEvent, providerMessageLinkEvent } from '@hatch/testing/events';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandApiConfigSchema } from './config.ts';
import { type CommandApiOnTestDatabase, commandApiOnTestDatabase } from './testing/on-test-database.ts';

const clock = { now: () => new Date('2024-11-01T14:00:05.000Z') };
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicKey = keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
const otherKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const inboundSecret = 'inbound-parse-secret-0123456789';
// The test vector of SendGrid's own client libraries (sendgrid-nodejs, -python, -java eventwebhook specs).
const sendGridVector = {
  publicKey:
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==',
  payload: '{"category":"example_payload","event":"test_event","message_id":"message_id"}',
  signature: 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=',
  timestamp: '1588788367',
};
const maxBytes = 64 * 1024;

let store: PostgresEventStore;
let sql: pg.Client;
let app: CommandApiOnTestDatabase['app'];
let under: CommandApiOnTestDatabase | undefined;
let base: string;

beforeAll(async () => {
  under = await commandApiOnTestDatabase({
    name: 'sendgrid-webhooks-test',
    clock,
    config: {
      sendGrid: {
        // Two keys, as during a rotation: ours and the vector's.
        events: { enabled: true, publicKeys: [publicKey, sendGridVector.publicKey], toleranceSeconds: 600 },
        inbound: { enabled: true, secrets: [inboundSecret], maxBytes },
      },
    },
  });
  ({ store, sql, app } = under);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await under?.close();
});

const eventCount = async () => Number((await sql.query('SELECT count(*)::int AS n FROM events')).rows[0].n);

/** The test clock's now, as SendGrid stamps the header (unix seconds). */
const signedNow = '1730469605';

const postEvents = (
  events: unknown,
  signWith: typeof keys.privateKey | null = keys.privateKey,
  tamper = false,
  timestamp = signedNow,
) => {
  const raw = JSON.stringify(events);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'SendGrid Event API' };
  if (signWith) {
    headers['x-twilio-email-event-webhook-signature'] = sign('sha256', Buffer.from(timestamp + raw), signWith).toString(
      'base64',
    );
    headers['x-twilio-email-event-webhook-timestamp'] = timestamp;
  }
  return fetch(`${base}/api/webhooks/sendgrid/events`, {
    method: 'POST',
    headers,
    body: tamper ? raw.replace('delivered', 'bounce') : raw,
  });
};

/** An accepted email send with a MessageSent naming SendGrid's X-Message-Id, as the dispatcher records it. */
async function sentEmail(xMessageId: string, to = 'example@test.com') {
  const res = await app.inject({
    method: 'POST',
    url: '/api/messages/email',
    payload: {
      from: 'news@usehatchapp.com',
      to,
      body: '<p>cat facts</p>',
      attachments: [],
      timestamp: '2024-11-01T14:00:00Z',
    },
  });
  expect(res.statusCode).toBe(202);
  const id = res.json().id as string;
  await store.append(
    `message-${id}`,
    [newMessageEvent('MessageSent', messageSent(id, { provider: 'sendgrid', providerMessageId: xMessageId }))],
    0,
  );
  return id;
}

/** The link the dispatcher appends before its MessageSent. */
async function linkProviderMessage(provider: string, providerMessageId: string, messageId: string) {
  const { streamId, event } = providerMessageLinkEvent(provider, providerMessageId, messageId);
  await store.append(streamId, [event]);
}

/** The documented event shape, with our custom arg at the top level as SendGrid puts custom args. */
const documented = (event: string, xMessageId: string, messageId: string, extra: Record<string, unknown> = {}) => ({
  email: 'example@test.com',
  timestamp: 1513299569,
  'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
  event,
  category: 'cat facts',
  sg_event_id: `sg_event_id-${event}-${xMessageId}`,
  sg_message_id: `${xMessageId}.filter0001.16648.5515E0B88.0`,
  message_id: messageId,
  ...extra,
});

describe('SendGrid Event Webhook', () => {
  it('verifies the ECDSA signature and turns delivered into MessageDelivered; processed/deferred record nothing', async () => {
    const xid = 'W_1NvCxzSvKd4wDXKMhGSw';
    const id = await sentEmail(xid);
    const batch = [
      documented('processed', xid, id),
      documented('deferred', xid, id, { response: '400 try again later', attempt: '5' }),
      documented('delivered', xid, id, { response: '250 OK' }),
    ];
    const res = await postEvents(batch);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ recorded: 1, ignored: 2 });
    const stream = await store.readStream(`message-${id}`);
    expect(stream.map((e) => e.type)).toEqual(['MessageRequested', 'MessageSent', 'MessageDelivered']);
    expect(stream[2]?.data).toMatchObject({
      provider: 'sendgrid',
      providerMessageId: xid,
      deliveredAt: '2017-12-15T00:59:29.000Z',
    });
    // SendGrid re-posts a batch it got no 2xx for: the same events append nothing.
    const before = await eventCount();
    expect((await postEvents(batch)).status).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it('answers 403 and appends nothing on a missing, foreign-key or tampered signature', async () => {
    const xid = 'Xk2eYQbTRbOK7Kdbx1ZyNw';
    const id = await sentEmail(xid);
    const batch = [documented('delivered', xid, id, { response: '250 OK' })];
    const before = await eventCount();
    for (const res of [
      await postEvents(batch, null),
      await postEvents(batch, otherKeys.privateKey),
      await postEvents(batch, keys.privateKey, true),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect(await eventCount()).toBe(before);
  });

  it('turns bounce and dropped into MessageUndelivered with the reason, and skips events not ours', async () => {
    const xid = 'bOuNcEdXMessageId000001';
    const id = await sentEmail(xid);
    const res = await postEvents([
      documented('bounce', xid, id, { reason: '500 unknown recipient', status: '5.0.0', type: 'bounce' }),
      // Documented `dropped` events may carry no sg_message_id: the send's X-Message-Id names the message.
      { email: 'example@test.com', timestamp: 1513299569, event: 'dropped', reason: 'Bounced Address', message_id: id },
      // Another tool on the same SendGrid account: no custom arg of ours.
      { email: 'someone@test.com', timestamp: 1513299569, event: 'delivered', sg_message_id: 'Zz.filter.0' },
      { event: 42 },
    ]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ recorded: 2, ignored: 2 });
    const [, , bounced, dropped] = await store.readStream(`message-${id}`);
    expect(bounced).toMatchObject({
      type: 'MessageUndelivered',
      data: { providerMessageId: xid, reason: 'bounce: 500 unknown recipient', errorCode: '5.0.0' },
    });
    expect(dropped).toMatchObject({
      type: 'MessageUndelivered',
      data: { providerMessageId: xid, reason: 'dropped: Bounced Address' },
    });
  });

  it('turns unsubscribe and spamreport into the contact opting out of the sender', async () => {
    const xid = 'UnSuBsCrIbEXMessageId01';
    const id = await sentEmail(xid, 'Reader@Test.com');
    const res = await postEvents([documented('unsubscribe', xid, id, { email: 'Reader@Test.com' })]);
    expect(await res.json()).toEqual({ recorded: 1, ignored: 0 });
    const [optOut] = await store.readStream(consentStreamId('email', 'news@usehatchapp.com', 'reader@test.com'));
    expect(optOut).toMatchObject({
      type: 'ContactOptedOut',
      data: { channel: 'email', source: 'unsubscribe', address: 'reader@test.com', sender: 'news@usehatchapp.com' },
    });
  });

  it("checks the signature over the exact raw bytes: SendGrid's library test vector verifies", async () => {
    const post = (timestamp: string) =>
      fetch(`${base}/api/webhooks/sendgrid/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-signature': sendGridVector.signature,
          'x-twilio-email-event-webhook-timestamp': timestamp,
        },
        body: sendGridVector.payload,
      });
    // Verified (so refused as stale, not as forged: the vector is from 2020), and a changed timestamp is forged.
    const vector = await post(sendGridVector.timestamp);
    expect(vector.status).toBe(403);
    expect((await vector.json()).type).toMatch(/stale-signature/);
    const forged = await post('1388788367');
    expect(forged.status).toBe(403);
    expect((await forged.json()).type).toMatch(/invalid-signature/);
  });

  it('refuses 403 a validly signed batch whose timestamp is outside the tolerance, appending nothing', async () => {
    const xid = 'StAlEXMessageId00000001';
    const id = await sentEmail(xid);
    const batch = [documented('delivered', xid, id, { response: '250 OK' })];
    const before = await eventCount();
    for (const timestamp of [String(Number(signedNow) - 601), String(Number(signedNow) + 601), 'soon']) {
      const res = await postEvents(batch, keys.privateKey, false, timestamp);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect(await eventCount()).toBe(before);
    // Inside the window it records.
    expect((await postEvents(batch, keys.privateKey, false, String(Number(signedNow) - 599))).status).toBe(200);
    expect(await eventCount()).toBe(before + 1);
  });

  it('finds a send without our custom arg by the X-Message-Id in sg_message_id, through the dispatcher link', async () => {
    const xid = 'LiNkEdXMessageId0000001';
    const id = await sentEmail(xid);
    await linkProviderMessage('sendgrid', xid, id);
    const { message_id: _ours, ...accountWide } = documented('delivered', xid, id, { response: '250 OK' });
    const unknown = { ...accountWide, sg_message_id: 'NoSuchXMessageId.filter0001.1.2.0' };
    const res = await postEvents([accountWide, unknown]);
    expect(await res.json()).toEqual({ recorded: 1, ignored: 1 });
    const stream = await store.readStream(`message-${id}`);
    expect(stream.map((e) => e.type)).toEqual(['MessageRequested', 'MessageSent', 'MessageDelivered']);
  });

  it('answers 400 for a body that is not a JSON array', async () => {
    const res = await postEvents({ event: 'delivered' });
    expect(res.status).toBe(400);
  });
});

/** An Inbound Parse post with SendGrid's documented fields and one attachment. */
function parsePost(over: Record<string, string> = {}, attachment = Buffer.from('%PDF-1.4 cat facts')) {
  const form = new FormData();
  const fields: Record<string, string> = {
    headers:
      'Message-ID: <CAE1aB2c3d4e@mail.gmail.com>\nFrom: Contact <contact@gmail.com>\nTo: support@usehatchapp.com',
    dkim: '{@gmail.com : pass}',
    'content-ids': '{}',
    to: 'Support <support@usehatchapp.com>',
    from: 'Contact <contact@gmail.com>',
    html: '<p>Hello from my mailbox</p>',
    text: 'Hello from my mailbox',
    sender_ip: '209.85.128.41',
    envelope: JSON.stringify({ to: ['support@usehatchapp.com'], from: 'contact@gmail.com' }),
    attachments: '1',
    subject: 'Question',
    spam_score: '0.1',
    'attachment-info': JSON.stringify({
      attachment1: { filename: 'facts.pdf', name: 'facts.pdf', type: 'application/pdf' },
    }),
    charsets: JSON.stringify({ to: 'UTF-8', html: 'UTF-8', subject: 'UTF-8', from: 'UTF-8', text: 'UTF-8' }),
    SPF: 'pass',
    ...over,
  };
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('attachment1', new Blob([attachment], { type: 'application/pdf' }), 'facts.pdf');
  return form;
}

describe('SendGrid Inbound Parse', () => {
  it('takes a post with the secret in the path: MessageReceived with attachment metadata, owner of `to`', async () => {
    const res = await fetch(`${base}/api/webhooks/sendgrid/inbound/${inboundSecret}`, {
      method: 'POST',
      body: parsePost(),
    });
    expect(res.status).toBe(200);
    const id = inboundMessageId('sendgrid', '<CAE1aB2c3d4e@mail.gmail.com>');
    expect((await res.json()).id).toBe(id);
    const [event] = await store.readStream(`message-${id}`);
    expect(event).toMatchObject({
      type: 'MessageReceived',
      data: {
        channel: 'email',
        from: 'contact@gmail.com',
        to: 'support@usehatchapp.com',
        subject: 'Question',
        body: '<p>Hello from my mailbox</p>',
        provider: 'sendgrid',
        attachments: [],
        attachmentFiles: [{ filename: 'facts.pdf', contentType: 'application/pdf', size: 18 }],
      },
    });
    // SendGrid retries on any non-2xx: the same mail again is the same event.
    const before = await eventCount();
    const again = await fetch(`${base}/api/webhooks/sendgrid/inbound/${inboundSecret}`, {
      method: 'POST',
      body: parsePost(),
    });
    expect(again.status).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it('takes the secret as the basic-auth password', async () => {
    const res = await fetch(`${base}/api/webhooks/sendgrid/inbound`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`sendgrid:${inboundSecret}`).toString('base64')}` },
      body: parsePost({ headers: 'Message-ID: <second@mail.gmail.com>' }),
    });
    expect(res.status).toBe(200);
  });

  it('answers 403 for a wrong or missing secret and 413 over the size limit, appending nothing', async () => {
    const before = await eventCount();
    const wrong = await fetch(`${base}/api/webhooks/sendgrid/inbound/not-the-secret`, {
      method: 'POST',
      body: parsePost(),
    });
    expect(wrong.status).toBe(403);
    const none = await fetch(`${base}/api/webhooks/sendgrid/inbound`, { method: 'POST', body: parsePost() });
    expect(none.status).toBe(403);
    const big = await fetch(`${base}/api/webhooks/sendgrid/inbound/${inboundSecret}`, {
      method: 'POST',
      body: parsePost({ headers: 'Message-ID: <big@mail.gmail.com>' }, Buffer.alloc(maxBytes + 1, 'a')),
    });
    expect(big.status).toBe(413);
    expect(big.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await eventCount()).toBe(before);
  });

  it('answers 400 naming the field for a malformed envelope', async () => {
    const res = await fetch(`${base}/api/webhooks/sendgrid/inbound/${inboundSecret}`, {
      method: 'POST',
      body: parsePost({ envelope: '{"to":"nope"}' }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/body\.envelope\.to/);
  });
});

describe('production', () => {
  it('refuses to start with SendGrid webhooks enabled and no public key or inbound secret', () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x@localhost/x',
      WEBHOOK_SECRET: 's',
      OPERATOR_TOKEN: 'o'.repeat(16),
      WEBHOOK_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      SENDGRID_WEBHOOKS: 'true',
    };
    const refused = commandApiConfigSchema.safeParse(env);
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toMatch(/SENDGRID_WEBHOOK_PUBLIC_KEY/);
    expect(JSON.stringify(refused.error?.issues)).toMatch(/SENDGRID_INBOUND_SECRET/);
    const ok = commandApiConfigSchema.safeParse({
      ...env,
      SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey,
      SENDGRID_INBOUND_SECRET: inboundSecret,
    });
    expect(ok.success).toBe(true);
  });
});
