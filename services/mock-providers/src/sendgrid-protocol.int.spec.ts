// SendGrid v3 Mail Send over real HTTP: our SendGridClient against the email mock and against a server
// answering as SendGrid's docs show (202 + X-Message-Id; 429 with X-RateLimit-Reset).
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
