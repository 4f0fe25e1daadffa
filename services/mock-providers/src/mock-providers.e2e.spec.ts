// The mock providers as a real process: idempotency, faults, magic recipients, signed receipts, replies.
import http from 'node:http';
import { freePort } from '@hatch/infra';
import { verifyWebhookSignature } from '@hatch/platform';
import { getJson, type MockProviders, postJson, startMockProviders, waitFor } from '@hatch/testing/processes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Webhook {
  path: string;
  body: Record<string, unknown>;
  signed: boolean;
  provider: string | undefined;
}

const secret = 'whsec_mock_suite';

describe('mock providers', () => {
  const received: Webhook[] = [];
  let callback: http.Server;
  let providers: MockProviders;

  beforeAll(async () => {
    const port = await freePort();
    callback = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const check = verifyWebhookSignature({
          secret,
          rawBody: raw,
          timestamp: req.headers['x-hatch-timestamp'] as string | undefined,
          signature: req.headers['x-hatch-signature'] as string | undefined,
        });
        received.push({
          path: req.url ?? '',
          body: JSON.parse(raw) as Record<string, unknown>,
          signed: check.ok,
          provider: req.headers['x-hatch-provider'] as string | undefined,
        });
        res.writeHead(check.ok ? 200 : 401).end();
      });
    });
    await new Promise<void>((r) => callback.listen(port, '127.0.0.1', r));
    providers = await startMockProviders({
      RECEIPTS_ENABLED: 'true',
      RECEIPT_DELAY_MS: '10',
      RECEIPT_DUPLICATE_RATE: '1',
      WEBHOOK_SECRET: secret,
      HATCH_CALLBACK_BASE_URL: `http://127.0.0.1:${port}`,
    });
  });

  afterAll(async () => {
    await providers?.process.stop();
    await new Promise((r) => callback.close(r));
  });

  const sendSms = (to: string, key: string, base = providers.urls.sms) =>
    fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ from: '+12015550100', to, type: 'sms', body: 'hi', attachments: [], message_id: key }),
    });

  it('accepts an SMS once per idempotency key and answers repeats with the first answer', async () => {
    const first = await sendSms('+12015552001', 'msg-1');
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    expect(id).toMatch(/^SM[0-9a-f]{32}$/);
    const again = await sendSms('+12015552001', 'msg-1');
    expect(again.status).toBe(201);
    expect(((await again.json()) as { id: string }).id).toBe(id);
    const ledger = await getJson<{ accepted: number; repeats: number; messages: Array<{ repeats: number }> }>(
      `${providers.urls.sms}/admin/messages`,
    );
    expect(ledger.accepted).toBe(1);
    expect(ledger.repeats).toBe(1);
    expect(ledger.messages[0]?.repeats).toBe(1);
  });

  it('accepts an email with 202, X-Message-Id and rate-limit headers', async () => {
    const res = await fetch(`${providers.urls.email}/v3/mail/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'mail-1' },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: 'jane@example.com' }], custom_args: { message_id: 'mail-1' } }],
        from: { email: 'team@hatch.test' },
        subject: 'hi',
        content: [{ type: 'text/html', value: '<p>hi</p>' }],
      }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-message-id')).toBeTruthy();
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
  });

  it('forces outcomes for magic recipients', async () => {
    expect((await sendSms('+12015550500', 'magic-500')).status).toBe(500);
    const limited = await sendSms('+12015550429', 'magic-429');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const rejected = await sendSms('+12015550400', 'magic-400');
    expect(rejected.status).toBe(400);
    expect(((await rejected.json()) as { code: number }).code).toBe(21211);
  });

  it('posts signed delivery receipts (duplicated when asked) with our message id', async () => {
    await sendSms('+12015550410', 'undelivered-1');
    const receipts = await waitFor(
      async () => {
        const mine = received.filter((w) => w.body.message_id === 'undelivered-1' || w.body.message_id === 'msg-1');
        return mine.length >= 4 ? mine : null;
      },
      5000,
      'receipts',
    );
    expect(receipts.every((w) => w.signed && w.path === '/api/webhooks/sms/status')).toBe(true);
    expect(receipts.filter((w) => w.body.message_id === 'msg-1')).toHaveLength(2);
    expect(receipts.find((w) => w.body.message_id === 'msg-1')?.body.status).toBe('delivered');
    expect(receipts.find((w) => w.body.message_id === 'undelivered-1')?.body).toMatchObject({
      status: 'undelivered',
      error_code: '30003',
    });
    const email = await waitFor(
      async () => received.find((w) => w.path === '/api/webhooks/email/status'),
      5000,
      'email receipt',
    );
    expect(email.body).toMatchObject({ message_id: 'mail-1', status: 'delivered', reason: null });
    expect(email.provider).toBe('xillio');
  });

  it('makes a contact reply through a signed inbound webhook', async () => {
    const { status, body } = await postJson(`${providers.urls.sms}/admin/reply`, {
      from: '+12015552001',
      to: '+12015550100',
      body: 'thanks!',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ webhookStatus: 200 });
    const inbound = received.find((w) => w.path === '/api/webhooks/sms');
    expect(inbound?.signed).toBe(true);
    expect(inbound?.body).toMatchObject({ from: '+12015552001', type: 'sms', body: 'thanks!', attachments: null });
    expect(inbound?.body.messaging_provider_id).toMatch(/^SM/);
  });

  it('injects faults at run time: all 500s, then down (connection reset), then back', async () => {
    const base = providers.urls.smsBackup;
    await postJson(`${base}/admin/faults`, { error500Rate: 1 });
    expect((await sendSms('+12015552002', 'f-1', base)).status).toBe(500);
    await postJson(`${base}/admin/faults`, { error500Rate: 0, down: true });
    await expect(sendSms('+12015552002', 'f-1', base)).rejects.toThrow();
    await postJson(`${base}/admin/faults`, { down: false });
    expect((await sendSms('+12015552002', 'f-1', base)).status).toBe(201);
  });
});
