// Twilio Programmable Messaging over real HTTP: our TwilioClient against the SMS mock, and against
// Twilio's documented request/response examples. Callback signatures are recomputed here with
// node:crypto, not with the code under test.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyProviderResponse, type OutboundMessage, TwilioClient } from '@hatch/dispatch';
import { createLogger } from '@hatch/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProviderServer, type ProviderServer } from './provider-server.ts';

const accountSid = 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';
const authToken = 'your_auth_token_rotated_often';

interface Captured {
  url: string;
  contentType: string | undefined;
  signature: string | undefined;
  authorization: string | undefined;
  form: URLSearchParams;
}

/** A plain HTTP server that records every request and answers with `answer`. */
async function recorder(answer: (c: Captured) => { status: number; body: string; headers?: Record<string, string> }) {
  const seen: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured: Captured = {
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        signature: req.headers['x-twilio-signature'] as string | undefined,
        authorization: req.headers.authorization,
        form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      };
      seen.push(captured);
      const a = answer(captured);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, base, close: () => new Promise((r) => server.close(r)) };
}

/** Twilio's documented algorithm, written out independently of @hatch/platform. */
function expectedSignature(token: string, url: string, form: URLSearchParams): string {
  const pairs = [...form.entries()].sort(([a, av], [b, bv]) => a.localeCompare(b) || av.localeCompare(bv));
  return createHmac('sha1', token)
    .update(url + pairs.map(([k, v]) => k + v).join(''))
    .digest('base64');
}

const message = (to: string, over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  messageId: '0195f1f2-7c3a-7d40-9e2a-4c1d3a716440',
  channel: 'sms',
  from: '+15557122661',
  to,
  body: 'Hi there',
  attachments: [],
  subject: null,
  cc: [],
  bcc: [],
  replyTo: null,
  ...over,
});

const waitFor = async (check: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('Twilio protocol', () => {
  let mock: ProviderServer;
  let mockUrl: string;
  let callbacks: Awaited<ReturnType<typeof recorder>>;

  beforeAll(async () => {
    callbacks = await recorder(() => ({ status: 200, body: '' }));
    mock = buildProviderServer({
      kind: 'sms',
      providerId: 'twilio',
      log: createLogger('twilio-mock-test'),
      callbackBaseUrl: callbacks.base,
      webhookSecret: undefined,
      faults: faultsOff,
      receipts: { enabled: true, delayMs: 5, duplicateRate: 0, outOfOrderRate: 0, outOfOrderDelayMs: 0, attempts: 2 },
    });
    mockUrl = await mock.app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await mock?.app.close();
    await callbacks?.close();
  });

  const client = (over: Partial<ConstructorParameters<typeof TwilioClient>[0]> = {}) =>
    new TwilioClient({
      id: 'twilio',
      baseUrl: mockUrl,
      accountSid,
      authToken,
      statusCallbackUrl: `${callbacks.base}/api/webhooks/twilio/status`,
      timeoutMs: 5000,
      ...over,
    });

  it('sends form-encoded To/From/Body/MediaUrl with Basic auth, takes the sid from the 201 resource, and gets signed status callbacks', async () => {
    const response = await client().send(
      message('+15558675310', { channel: 'mms', attachments: ['https://c.example/a.png', 'https://c.example/b.png'] }),
      'key-1',
    );
    const classified = classifyProviderResponse(response);
    expect(classified.kind).toBe('accepted');
    const sid = classified.kind === 'accepted' ? classified.providerMessageId : '';
    expect(sid).toMatch(/^SM/);
    const stored = [...mock.messages.values()].find((m) => m.providerMessageId === sid);
    expect(stored).toMatchObject({
      protocol: 'twilio',
      to: '+15558675310',
      type: 'mms',
      messageId: message('').messageId,
    });

    await waitFor(() => callbacks.seen.filter((c) => c.form.get('MessageSid') === sid).length >= 2);
    const [sent, delivered] = callbacks.seen.filter((c) => c.form.get('MessageSid') === sid);
    expect(sent?.form.get('MessageStatus')).toBe('sent');
    expect(delivered?.form.get('MessageStatus')).toBe('delivered');
    expect(delivered?.url).toBe(`/api/webhooks/twilio/status?messageId=${message('').messageId}`);
    expect(delivered?.contentType).toBe('application/x-www-form-urlencoded');
    // Signed with the auth token the send authenticated with, over the full callback URL.
    const fullUrl = `${callbacks.base}${delivered?.url}`;
    expect(delivered?.signature).toBe(expectedSignature(authToken, fullUrl, delivered!.form));
    expect(expectedSignature('another-token', fullUrl, delivered!.form)).not.toBe(delivered?.signature);
  });

  it('fails at once on 21211 with the code in the reason, and retries 429 (20429) and 5xx', async () => {
    const rejected = classifyProviderResponse(await client().send(message('+12015550400'), 'key-2'));
    expect(rejected).toMatchObject({ kind: 'rejected', providerStatus: 400 });
    expect(rejected.kind === 'rejected' && rejected.reason).toMatch(/^rejected: twilio 21211: /);

    const limited = await client().send(message('+12015550429'), 'key-3');
    expect(classifyProviderResponse(limited)).toMatchObject({ kind: 'retryable', reason: 'rate_limited' });
    const down = await client().send(message('+12015550500'), 'key-4');
    expect(classifyProviderResponse(down)).toMatchObject({ kind: 'retryable', providerStatus: 500 });
  });

  it('answers 401 with Twilio error 20003 when the Basic auth user is not the path account', async () => {
    const res = await fetch(`${mockUrl}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('ACother:token').toString('base64')}`,
      },
      body: 'To=%2B15558675310&From=%2B15557122661&Body=Hi',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 20003, status: 401 });
  });

  it("parses Twilio's documented Create Message examples (201 resource, 400 error JSON)", async () => {
    // Response bodies as printed in twilio.com/docs/messaging/api/message-resource ("Create a Message")
    // and twilio.com/docs/errors/21211.
    const documented201 = {
      account_sid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      api_version: '2010-04-01',
      body: 'Hi there',
      date_created: 'Thu, 24 Aug 2023 05:01:45 +0000',
      date_sent: 'Thu, 24 Aug 2023 05:01:45 +0000',
      date_updated: 'Thu, 24 Aug 2023 05:01:45 +0000',
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: '+14155552345',
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: null,
      messaging_service_sid: 'MGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      sid: 'SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      status: 'queued',
      subresource_uris: {
        media:
          '/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Media.json',
      },
      to: '+14155552345',
      uri: '/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX.json',
    };
    const documented400 = {
      code: 21211,
      message: "Invalid 'To' Phone Number",
      more_info: 'https://www.twilio.com/docs/errors/21211',
      status: 400,
    };
    const twilio = await recorder((c) =>
      c.form.get('To') === '+14155552345'
        ? { status: 201, body: JSON.stringify(documented201) }
        : { status: 400, body: JSON.stringify(documented400) },
    );
    try {
      const docs = client({ baseUrl: twilio.base });
      const ok = await docs.send(message('+14155552345', { from: '+14155552345' }), 'doc-1');
      expect(classifyProviderResponse(ok)).toEqual({ kind: 'accepted', providerMessageId: documented201.sid });
      const bad = classifyProviderResponse(await docs.send(message('+1415555'), 'doc-2'));
      expect(bad).toEqual({
        kind: 'rejected',
        reason: "rejected: twilio 21211: Invalid 'To' Phone Number",
        providerStatus: 400,
      });

      // The request as Twilio's docs show it: form fields To, From, Body (+ StatusCallback), Basic auth.
      const [first] = twilio.seen;
      expect(first?.url).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
      expect(first?.contentType).toBe('application/x-www-form-urlencoded');
      expect(first?.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
      expect(Object.fromEntries(first!.form)).toMatchObject({
        To: '+14155552345',
        From: '+14155552345',
        Body: 'Hi there',
      });
    } finally {
      await twilio.close();
    }
  });
});

const faultsOff = {
  error500Rate: 0,
  error429Rate: 0,
  retryAfterSeconds: 1,
  timeoutRate: 0,
  slowRate: 0,
  slowMs: 0,
  down: false,
  idempotency: true,
};
