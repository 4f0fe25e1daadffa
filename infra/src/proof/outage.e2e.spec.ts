// Outages behave, against the whole stack: while PostgreSQL is down the command API answers 503 with
// Retry-After within 1 s, /ready is false and /health true; when it returns, sends are accepted, dispatched
// and projected again with no service restarted. While both SMS providers are down sends queue (breaker
// open, retries scheduled) and all flow once they are back.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScratchStack, startScratchStack } from './scratch-stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outages', () => {
  let stack: ScratchStack;
  const pids: Record<string, number | undefined> = {};
  const sms = (body: string) => ({
    from: '+12016661234',
    to: `+1804666${1000 + Math.floor(Math.random() * 9000)}`,
    type: 'sms',
    body,
    attachments: null,
    timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  const send = async (payload: object, key = randomBytes(8).toString('hex')) => {
    const started = Date.now();
    const res = await fetch(`${stack.apiUrl}/api/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(10_000),
    });
    return { res, ms: Date.now() - started, body: (await res.json()) as { id?: string } };
  };
  const status = async (id: string) => {
    const res = await fetch(`${stack.apiUrl}/api/messages/${id}`);
    return res.ok ? ((await res.json()) as { status: string }).status : null;
  };
  const waitFor = async (what: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await what()) return true;
      await sleep(200);
    }
    return false;
  };
  const provider = (port: number) => `http://127.0.0.1:${port}`;
  const setDown = (down: boolean) =>
    Promise.all(
      [stack.config.smsProviderPort, stack.config.smsBackupProviderPort].map((p) =>
        fetch(`${provider(p)}/admin/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ down }),
        }),
      ),
    );

  beforeAll(async () => {
    stack = await startScratchStack({
      env: {
        LOG_LEVEL: 'warn',
        BREAKER_FAILURE_THRESHOLD: '3',
        BREAKER_COOLDOWN_MS: '1000',
        RETRY_BASE_DELAY_MS: '200',
        RETRY_MAX_DELAY_MS: '2000',
      },
      output: () => {},
    });
    for (const s of stack.services) pids[s] = stack.pid(s);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('PostgreSQL down: 503 + Retry-After within 1 s, /ready false, /health true; back: everything resumes', async () => {
    expect((await send(sms('before'))).res.status).toBe(202);
    await stack.postgres?.kill();
    const outage: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { res, ms } = await send(sms('during'));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      outage.push(ms);
    }
    console.log(`503 answers while PostgreSQL is down: ${outage.join(', ')} ms`);
    expect(Math.max(...outage)).toBeLessThan(1000);
    expect((await fetch(`${stack.apiUrl}/ready`)).status).toBe(503);
    expect((await fetch(`${stack.apiUrl}/health`)).status).toBe(200);

    await stack.postgres?.restart();
    const back = Date.now();
    let id: string | undefined;
    expect(
      await waitFor(async () => {
        const { res, body } = await send(sms('after'));
        id = body.id;
        return res.status === 202;
      }, 20_000),
    ).toBe(true);
    console.log(`accepting again ${Date.now() - back} ms after PostgreSQL returned`);
    expect((await fetch(`${stack.apiUrl}/ready`)).status).toBe(200);
    // Dispatched and projected by the same processes as before the outage.
    expect(await waitFor(async () => ['sent', 'delivered'].includes((await status(id as string)) ?? ''), 20_000)).toBe(
      true,
    );
    for (const s of stack.services) expect(stack.pid(s)).toBe(pids[s]);
  }, 90_000);

  it('both SMS providers down: sends queue, then all flow when they return', async () => {
    await setDown(true);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { res, body } = await send(sms(`queued ${i}`));
      expect(res.status).toBe(202);
      ids.push(body.id as string);
    }
    await sleep(4000);
    const whileDown = await Promise.all(ids.map(status));
    expect(whileDown.filter((s) => s === 'sent' || s === 'delivered')).toEqual([]);
    expect(whileDown.filter((s) => s === 'failed')).toEqual([]);
    await setDown(false);
    const back = Date.now();
    const flowed = await waitFor(async () => {
      const now = await Promise.all(ids.map(status));
      return now.every((s) => s === 'sent' || s === 'delivered');
    }, 30_000);
    console.log(`30 queued sends all sent ${Date.now() - back} ms after the providers returned`);
    expect(flowed).toBe(true);
  }, 60_000);
});
