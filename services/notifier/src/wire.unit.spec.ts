// What goes on the wire, checked with the `standardwebhooks` package and real sockets on loopback: the
// signature, the production SSRF guard (after DNS too), timeouts, the cap on response bodies, the schedule.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhook } from '@hatch/domain';
import { deliverWebhook, isPublicAddress, nextRetryDelayMs, retryScheduleSchema } from '@hatch/webhooks';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const secret = `whsec_${Buffer.from('0123456789abcdef01234567').toString('base64')}`;
const policy = { timeoutMs: 500, maxResponseBytes: 64, publicOnly: false };

let server: http.Server;
let base: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/slow') return; // never answers
    if (req.url === '/big') return res.writeHead(500).end('x'.repeat(1_000_000));
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('Standard Webhooks signature', () => {
  it('verifies with the standardwebhooks package, and not with another secret', () => {
    const body = JSON.stringify({ type: 'message.sent', timestamp: '2026-01-01T00:00:00Z', data: {} });
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'wh-1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(secret, 'wh-1', ts, body),
    };
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'message.sent' });
    const other = `whsec_${Buffer.from('another-secret-of-24-byt').toString('base64')}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });
});

it('signs with the previous secret too after a rotation: a receiver holding either verifies', async () => {
  const previous = `whsec_${Buffer.from('the-previous-secret-24by').toString('base64')}`;
  let headers: Record<string, string> = {};
  let body = '';
  const capture = http.createServer((req, res) => {
    headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(capture.address() as AddressInfo).port}/`;
  const payload = JSON.stringify({ type: 'message.sent', timestamp: '2026-01-01T00:00:00Z', data: {} });
  const ts = Math.floor(Date.now() / 1000);
  await deliverWebhook(
    { url, webhookId: 'wh-2', secrets: [secret, previous], body: payload, timestampSeconds: ts },
    policy,
  );
  capture.close();
  expect(body).toBe(payload);
  expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'message.sent' });
  expect(new Webhook(previous).verify(body, headers)).toMatchObject({ type: 'message.sent' });
});

describe('safe targets (production)', () => {
  it('judges addresses: only public unicast passes', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
    ])
      expect(isPublicAddress(a), a).toBe(false);
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']) expect(isPublicAddress(a), a).toBe(true);
  });

  it('refuses http, loopback literals and names resolving to loopback, before sending anything', async () => {
    const request = { webhookId: 'wh', secrets: [secret], body: '{}', timestampSeconds: 1 };
    const prod = { ...policy, publicOnly: true };
    for (const url of [base, 'https://127.0.0.1:9/h', 'https://[::1]:9/h', 'https://localhost:9/h']) {
      const outcome = await deliverWebhook({ ...request, url }, prod);
      expect(outcome, url).toMatchObject({ kind: 'error', unsafe: true });
    }
  });
});

describe('delivery on the wire', () => {
  const request = { webhookId: 'wh', secrets: [secret], body: '{}', timestampSeconds: 1 };
  it('gives up after the timeout', async () => {
    const started = Date.now();
    const outcome = await deliverWebhook({ ...request, url: `${base}/slow` }, policy);
    expect(outcome).toMatchObject({ kind: 'error', unsafe: false });
    expect(Date.now() - started).toBeLessThan(2000);
  });
  it('reads at most the cap of an answer', async () => {
    const outcome = await deliverWebhook({ ...request, url: `${base}/big` }, policy);
    expect(outcome).toMatchObject({ kind: 'response', status: 500 });
    expect(outcome.kind === 'response' && outcome.responseBody.length).toBe(64);
  });
  it('follows the schedule with jitter, then stops', () => {
    const schedule = retryScheduleSchema.parse('5s,5m,2h');
    expect(schedule).toEqual([5000, 300_000, 7_200_000]);
    expect(nextRetryDelayMs(schedule, 1, () => 0)).toBe(4500);
    expect(nextRetryDelayMs(schedule, 2, () => 1)).toBe(330_000);
    expect(nextRetryDelayMs(schedule, 4)).toBeNull();
    expect(retryScheduleSchema.safeParse('5 minutes').success).toBe(false);
  });
});
