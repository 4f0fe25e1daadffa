// The lookups the dispatcher makes after a call whose answer it lost, with our real clients against the
// mocks over HTTP: the scaffold's GET by our message id, Twilio's Messages list (To, From, DateSent>) and
// fetch by sid, SendGrid's Email Activity query on the message_id custom arg. With the mocks' idempotency
// off (as the real providers behave) a repeated key is a second message, which is what the lookups prevent.
import { randomUUID } from 'node:crypto';
import {
  classifyProviderResponse,
  EmailProviderClient,
  type OutboundMessage,
  SendGridClient,
  SmsProviderClient,
  TwilioClient,
} from '@hatch/dispatch';
import { createLogger } from '@hatch/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseActivityQuery } from './lookup-routes.ts';
import { buildProviderServer, type ProviderServer } from './provider-server.ts';

const accountSid = 'AC00000000000000000000000000000001';
const faults = {
  error500Rate: 0,
  error429Rate: 0,
  retryAfterSeconds: 1,
  timeoutRate: 0,
  slowRate: 0,
  slowMs: 0,
  down: false,
  idempotency: true,
};
const receipts = { enabled: false, delayMs: 0, duplicateRate: 0, outOfOrderRate: 0, outOfOrderDelayMs: 0, attempts: 1 };

const message = (channel: 'sms' | 'email', over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  messageId: randomUUID(),
  channel,
  from: channel === 'sms' ? '+15557122661' : 'team@usehatchapp.com',
  to: channel === 'sms' ? `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}` : 'ann@example.com',
  body: `hello ${randomUUID()}`,
  attachments: [],
  subject: channel === 'email' ? 'hi' : null,
  cc: [],
  bcc: [],
  replyTo: null,
  ...over,
});

const acceptedId = (response: Awaited<ReturnType<TwilioClient['send']>>) => {
  const classified = classifyProviderResponse(response);
  if (classified.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(classified)}`);
  return classified.providerMessageId;
};

describe('provider lookups against the mocks', () => {
  let sms: ProviderServer;
  let email: ProviderServer;
  let smsUrl: string;
  let emailUrl: string;
  const setFaults = (base: string, body: object) =>
    fetch(`${base}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const common = {
      log: createLogger('lookup-test'),
      callbackBaseUrl: 'http://127.0.0.1:9',
      webhookSecret: undefined,
    };
    sms = buildProviderServer({ ...common, kind: 'sms', providerId: 'twilio', faults, receipts });
    email = buildProviderServer({ ...common, kind: 'email', providerId: 'sendgrid', faults, receipts });
    smsUrl = await sms.app.listen({ host: '127.0.0.1', port: 0 });
    emailUrl = await email.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await sms?.app.close();
    await email?.app.close();
  });

  it('Twilio: finds a send by To/From/body in the Messages list, and by its sid; a message never sent is not found', async () => {
    const twilio = new TwilioClient({
      id: 'twilio',
      baseUrl: smsUrl,
      accountSid,
      authToken: 'token',
      statusCallbackUrl: 'http://127.0.0.1:9/api/webhooks/twilio/status',
      timeoutMs: 5000,
    });
    const sent = message('sms');
    const sinceMs = Date.now() - 1000;
    const sid = acceptedId(await twilio.send(sent, sent.messageId));
    expect(await twilio.lookup({ message: sent, providerMessageId: null, sinceMs })).toEqual({
      kind: 'found',
      providerMessageId: sid,
    });
    expect(await twilio.lookup({ message: sent, providerMessageId: sid, sinceMs })).toEqual({
      kind: 'found',
      providerMessageId: sid,
    });
    // Same recipient, another body; and the same body sent before the first possible call: neither is ours.
    expect(await twilio.lookup({ message: { ...sent, body: 'other' }, providerMessageId: null, sinceMs })).toEqual({
      kind: 'not_found',
    });
    expect(await twilio.lookup({ message: sent, providerMessageId: null, sinceMs: Date.now() + 60_000 })).toEqual({
      kind: 'not_found',
    });
    expect(await twilio.lookup({ message: sent, providerMessageId: 'SMnope', sinceMs })).toEqual({ kind: 'not_found' });
    // A malformed DateSent is Twilio's 400, which the client reports as unknown (it goes on as before).
    const bad = await fetch(`${smsUrl}/2010-04-01/Accounts/${accountSid}/Messages.json?DateSent%3E=yesterday`, {
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:token`).toString('base64')}` },
    });
    expect(bad.status).toBe(400);
    twilio.close();
  });

  it('SendGrid: finds a send through the Email Activity query on our message_id custom arg', async () => {
    const sendGrid = new SendGridClient({ id: 'sendgrid', baseUrl: emailUrl, apiKey: 'SG.key', timeoutMs: 5000 });
    const sent = message('email');
    const xMessageId = acceptedId(await sendGrid.send(sent, sent.messageId));
    expect(await sendGrid.lookup({ message: sent, providerMessageId: null, sinceMs: 0 })).toEqual({
      kind: 'found',
      providerMessageId: xMessageId,
    });
    expect(
      await sendGrid.lookup({ message: { ...sent, messageId: randomUUID() }, providerMessageId: null, sinceMs: 0 }),
    ).toEqual({ kind: 'not_found' });
    const byPrefix = await fetch(
      `${emailUrl}/v3/messages?query=${encodeURIComponent(`msg_id LIKE '${xMessageId}%'`)}`,
      { headers: { authorization: 'Bearer SG.key' } },
    );
    expect(((await byPrefix.json()) as { messages: unknown[] }).messages).toHaveLength(1);
    const unauthenticated = await fetch(`${emailUrl}/v3/messages?query=x`);
    expect(unauthenticated.status).toBe(401);
    expect(parseActivityQuery(`status="processed"`)).toBeNull();
    sendGrid.close();
  });

  it('scaffold: GET /v1/messages/by-message-id on both mocks', async () => {
    const scaffoldSms = new SmsProviderClient({ id: 'messaging-provider', baseUrl: smsUrl, timeoutMs: 5000 });
    const scaffoldEmail = new EmailProviderClient({ id: 'xillio', baseUrl: emailUrl, timeoutMs: 5000 });
    for (const [client, channel] of [
      [scaffoldSms, 'sms'],
      [scaffoldEmail, 'email'],
    ] as const) {
      const sent = message(channel);
      const id = acceptedId(await client.send(sent, sent.messageId));
      expect(await client.lookup({ message: sent, providerMessageId: null, sinceMs: 0 })).toEqual({
        kind: 'found',
        providerMessageId: id,
      });
      const never = { ...sent, messageId: randomUUID() };
      expect(await client.lookup({ message: never, providerMessageId: null, sinceMs: 0 })).toEqual({
        kind: 'not_found',
      });
      client.close();
    }
  });

  it('with idempotency off a repeated key is a second message; on, the first answer', async () => {
    const client = new SmsProviderClient({ id: 'messaging-provider', baseUrl: smsUrl, timeoutMs: 5000 });
    const count = (id: string) => [...sms.messages.values()].filter((m) => m.messageId === id).length;
    const once = message('sms');
    const first = acceptedId(await client.send(once, once.messageId));
    expect(acceptedId(await client.send(once, once.messageId))).toBe(first);
    expect(count(once.messageId)).toBe(1);

    await setFaults(smsUrl, { idempotency: false });
    try {
      const twice = message('sms');
      const a = acceptedId(await client.send(twice, twice.messageId));
      const b = acceptedId(await client.send(twice, twice.messageId));
      expect(a).not.toBe(b);
      expect(count(twice.messageId)).toBe(2);
    } finally {
      await setFaults(smsUrl, { idempotency: true });
      client.close();
    }
  });
});
