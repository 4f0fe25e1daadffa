// SendGrid v3 Mail Send over real HTTP: our SendGridClient against the email mock and against a server
// answering as SendGrid's docs show (202 + X-Message-Id; 429 with X-RateLimit-Reset); then the mock's own
// SendGrid answers and signed Event Webhook posts.
import { createPublicKey, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyProviderResponse, type OutboundMessage, SendGridClient } from '@hatch/dispatch';
import { createLogger } from '@hatch/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProviderServer, type ProviderServer } from './provider-server.ts';

const mail: OutboundMessage = {
  messageId: '0195f1f2-7c3a-7d40-9e2a-4c1d3a716441',
  channel: 'email',
  from: 'user@usehatchapp.com',
  to: 'contact@gmail.com',
  body: '<html><body><p>Hi <b>there</b></p></body></html>',
  attachments: ['https://cdn.example.com/a.pdf'],
  subject: 'Hello',
  cc: ['cc@example.com'],
  bcc: [],
  replyTo: 'reply@usehatchapp.com',
};

describe('SendGrid Mail Send', () => {
  let mock: ProviderServer;
  let mockUrl: string;
  const seen: Array<{ headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> = [];
  let docs: http.Server;
  let docsUrl: string;
  const resetAt = Math.floor(Date.now() / 1000) + 30;

  beforeAll(async () => {
    mock = buildProviderServer({
      kind: 'email',
      providerId: 'sendgrid',
      log: createLogger('sendgrid-mock-test', { level: 'silent' }),
      callbackBaseUrl: 'http://127.0.0.1:9',
      webhookSecret: undefined,
      faults: {
        error500Rate: 0,
        error429Rate: 0,
        retryAfterSeconds: 1,
        timeoutRate: 0,
        slowRate: 0,
        slowMs: 0,
        down: false,
        idempotency: true,
      },
      receipts: { enabled: false, delayMs: 0, duplicateRate: 0, outOfOrderRate: 0, outOfOrderDelayMs: 0, attempts: 1 },
    });
    mockUrl = await mock.app.listen({ host: '127.0.0.1', port: 0 });
    // SendGrid's documented answers: 202 with an empty body and X-Message-Id; 429 with the rate-limit headers.
    docs = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        seen.push({ headers: req.headers, body });
        if (seen.length === 1) res.writeHead(202, { 'x-message-id': 'W_1NvCxzSvKd4wDXKMhGSw' }).end();
        else
          res
            .writeHead(429, {
              'x-ratelimit-limit': '600',
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset': String(resetAt),
            })
            .end('{"errors":[{"field":null,"message":"too many requests"}]}');
      });
    });
    await new Promise<void>((r) => docs.listen(0, '127.0.0.1', r));
    docsUrl = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await mock?.app.close();
    await new Promise((r) => docs.close(r));
  });

  it('is accepted by the mock with the X-Message-Id as provider message id', async () => {
    const client = new SendGridClient({ id: 'sendgrid', baseUrl: mockUrl, apiKey: 'SG.test', timeoutMs: 5000 });
    const classified = classifyProviderResponse(await client.send(mail, 'k-1'));
    expect(classified.kind).toBe('accepted');
    const stored = [...mock.messages.values()][0];
    expect(classified.kind === 'accepted' && classified.providerMessageId).toBe(stored?.providerMessageId);
    expect(stored).toMatchObject({ messageId: mail.messageId, to: 'contact@gmail.com' });
  });

  it('sends Bearer auth, text/plain from the HTML then text/html, cc and reply_to, and waits for X-RateLimit-Reset on 429', async () => {
    const client = new SendGridClient({ id: 'sendgrid', baseUrl: docsUrl, apiKey: 'SG.secret', timeoutMs: 5000 });
    const ok = classifyProviderResponse(await client.send(mail, 'k-2'));
    expect(ok).toEqual({ kind: 'accepted', providerMessageId: 'W_1NvCxzSvKd4wDXKMhGSw' });
    const [first] = seen;
    expect(first?.headers.authorization).toBe('Bearer SG.secret');
    expect(first?.body).toMatchObject({
      personalizations: [
        {
          to: [{ email: 'contact@gmail.com' }],
          cc: [{ email: 'cc@example.com' }],
          custom_args: { message_id: mail.messageId },
        },
      ],
      from: { email: 'user@usehatchapp.com' },
      reply_to: { email: 'reply@usehatchapp.com' },
      subject: 'Hello',
    });
    const content = first?.body.content as Array<{ type: string; value: string }>;
    expect(content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(content[0]?.value).toContain('Hi there');
    expect(content[0]?.value).toContain('https://cdn.example.com/a.pdf');
    expect(content[0]?.value).not.toContain('<b>');
    expect(content[1]?.value).toContain('<a href="https://cdn.example.com/a.pdf">');

    const limited = await client.send(mail, 'k-3');
    const retry = classifyProviderResponse(limited);
    expect(retry).toMatchObject({ kind: 'retryable', reason: 'rate_limited' });
    const waitMs = retry.kind === 'retryable' ? (retry.retryAfterMs ?? 0) : 0;
    expect(waitMs).toBeGreaterThan(25_000);
    expect(waitMs).toBeLessThanOrEqual(30_000);
  });
});

// The email mock speaking SendGrid's protocol: answers shaped as SendGrid documents them
// (twilio.com/docs/sendgrid/api-reference/mail-send/mail-send: 202 + X-Message-Id; errors as
// `{"errors":[{"message","field","help"}]}`; 429 with X-RateLimit-Limit/Remaining/Reset) and Event Webhook
// batches verified here with node:crypto against the public key the mock publishes.
describe('the email mock as SendGrid', () => {
  let mock: ProviderServer;
  let mockUrl: string;
  let hatch: http.Server;
  const posts: Array<{ url: string; headers: http.IncomingHttpHeaders; raw: string }> = [];

  beforeAll(async () => {
    hatch = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push({ url: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hatch.listen(0, '127.0.0.1', r));
    mock = buildProviderServer({
      kind: 'email',
      providerId: 'sendgrid',
      log: createLogger('sendgrid-mock-test', { level: 'silent' }),
      callbackBaseUrl: `http://127.0.0.1:${(hatch.address() as AddressInfo).port}`,
      webhookSecret: undefined,
      faults: {
        error500Rate: 0,
        error429Rate: 0,
        retryAfterSeconds: 7,
        timeoutRate: 0,
        slowRate: 0,
        slowMs: 0,
        down: false,
        idempotency: true,
      },
      receipts: { enabled: true, delayMs: 0, duplicateRate: 0, outOfOrderRate: 0, outOfOrderDelayMs: 0, attempts: 1 },
    });
    mockUrl = await mock.app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await mock?.app.close();
    await new Promise((r) => hatch.close(r));
  });

  const mailSend = (body: unknown, auth = 'Bearer SG.test') =>
    fetch(`${mockUrl}/v3/mail/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify(body),
    });

  const waitFor = async (n: number) => {
    for (let i = 0; i < 100 && posts.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    expect(posts.length).toBeGreaterThanOrEqual(n);
  };

  it('posts a signed Event Webhook batch: processed then delivered, sg_message_id from the X-Message-Id, custom args on top', async () => {
    const client = new SendGridClient({ id: 'sendgrid', baseUrl: mockUrl, apiKey: 'SG.test', timeoutMs: 5000 });
    const sent = classifyProviderResponse(await client.send(mail, 'k-events'));
    expect(sent.kind).toBe('accepted');
    const xMessageId = sent.kind === 'accepted' ? sent.providerMessageId : '';
    await waitFor(1);
    const post = posts[0];
    expect(post?.url).toBe('/api/webhooks/sendgrid/events');
    const timestamp = post?.headers['x-twilio-email-event-webhook-timestamp'] as string;
    const signature = post?.headers['x-twilio-email-event-webhook-signature'] as string;
    const { publicKey } = (await (await fetch(`${mockUrl}/admin/sendgrid/public-key`)).json()) as { publicKey: string };
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(verify('sha256', Buffer.from(timestamp + (post?.raw ?? '')), key, Buffer.from(signature, 'base64'))).toBe(
      true,
    );
    expect(verify('sha256', Buffer.from(`${timestamp}${post?.raw}x`), key, Buffer.from(signature, 'base64'))).toBe(
      false,
    );
    const events = JSON.parse(post?.raw ?? '[]') as Array<Record<string, unknown>>;
    expect(events.map((e) => e.event)).toEqual(['processed', 'delivered']);
    for (const e of events) {
      expect(String(e.sg_message_id).split('.')[0]).toBe(xMessageId);
      expect(e).toMatchObject({ email: 'contact@gmail.com', message_id: mail.messageId });
      expect(typeof e.timestamp).toBe('number');
    }
  });

  it('reports a bounce for the bounce@ magic recipient', async () => {
    const before = posts.length;
    const client = new SendGridClient({ id: 'sendgrid', baseUrl: mockUrl, apiKey: 'SG.test', timeoutMs: 5000 });
    await client.send({ ...mail, to: 'bounce@example.com' }, 'k-bounce');
    await waitFor(before + 1);
    const events = JSON.parse(posts[before]?.raw ?? '[]') as Array<Record<string, unknown>>;
    expect(events[1]).toMatchObject({ event: 'bounce', type: 'bounce', status: '5.1.1' });
  });

  it("answers 429 with SendGrid's rate-limit headers and error JSON, retried after X-RateLimit-Reset", async () => {
    const res = await mailSend({
      personalizations: [{ to: [{ email: 'always-429@example.com' }] }],
      from: { email: 'user@usehatchapp.com' },
      content: [{ type: 'text/plain', value: 'x' }],
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-ratelimit-limit')).toBe('600');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    expect(reset - Date.now() / 1000).toBeGreaterThan(5);
    expect(await res.json()).toEqual({ errors: [{ message: 'too many requests', field: null, help: null }] });
    const client = new SendGridClient({ id: 'sendgrid', baseUrl: mockUrl, apiKey: 'SG.test', timeoutMs: 5000 });
    const retry = classifyProviderResponse(await client.send({ ...mail, to: 'always-429@example.com' }, 'k-429'));
    expect(retry).toMatchObject({ kind: 'retryable', reason: 'rate_limited' });
  });

  it('answers 400 validation errors and rejected recipients in SendGrid error JSON', async () => {
    const invalid = await mailSend({ personalizations: [], from: { email: 'user@usehatchapp.com' }, content: [] });
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { errors: Array<{ message: string; field: string | null; help: unknown }> };
    expect(body.errors[0]?.field).toBe('personalizations');
    expect(Object.keys(body.errors[0] ?? {}).sort()).toEqual(['field', 'help', 'message']);
    const rejected = await mailSend({
      personalizations: [{ to: [{ email: 'reject@example.com' }] }],
      from: { email: 'user@usehatchapp.com' },
      content: [{ type: 'text/plain', value: 'x' }],
    });
    expect(rejected.status).toBe(400);
    expect(((await rejected.json()) as typeof body).errors[0]?.field).toBe('personalizations.0.to.0.email');
  });
});
