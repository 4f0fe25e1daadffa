// The edge only accepts values the read tables can hold (quarantine is the last line, not the first), and a
// send's `timestamp` is any ISO-8601 instant with an offset (stored in UTC), or absent (when we received it).
import type { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandApiOnTestDatabase, commandApiOnTestDatabase } from './testing/on-test-database.ts';

const received = new Date('2026-11-01T14:00:05.000Z');
const _silent = createLogger('edge-bounds-test', { level: 'silent' });
const sms = { from: '+12016661234', to: '+18045551234', body: 'Hello' };

describe('edge bounds on sends', () => {
  let store: PostgresEventStore;
  let sql: pg.Client;
  let app: CommandApiOnTestDatabase['app'];
  let under: CommandApiOnTestDatabase | undefined;

  beforeAll(async () => {
    under = await commandApiOnTestDatabase({
      name: 'edge-bounds-test',
      clock: { now: () => received },
      config: { appendTimeoutMs: 1500 },
    });
    ({ store, sql, app } = under);
  });
  afterAll(async () => {
    await under?.close();
  });

  const eventCount = async () => Number((await sql.query('SELECT count(*)::int AS n FROM events')).rows[0].n);
  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });
  const requested = async (id: string) =>
    (await store.readStream(`message-${id}`))[0]?.data as { timestamp: string; requestedAt: string };

  it.each([
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['before 1970', '1969-12-31T23:59:59Z'],
    ['far ahead', '9999-12-31T23:59:59Z'],
    ['two days ahead', new Date(Date.now() + 2 * 86_400_000).toISOString()],
    ['no offset', '2024-11-01T14:00:00'],
    ['not a date', '2024-02-30T14:00:00Z'],
  ])('answers 400 naming body.timestamp for %s and appends nothing', async (_name, timestamp) => {
    const before = await eventCount();
    for (const url of ['/api/messages/sms', '/api/messages/email']) {
      const payload =
        url === '/api/messages/sms'
          ? { ...sms, timestamp }
          : { from: 'a@usehatchapp.com', to: 'b@example.com', body: 'hi', timestamp };
      const res = await post(url, payload);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('body.timestamp');
    }
    expect(await eventCount()).toBe(before);
  });

  it('bounds receipts and inbound stamps the same way', async () => {
    const res = await post('/api/webhooks/sms', {
      ...sms,
      from: '+18045551234',
      to: '+12016661234',
      messaging_provider_id: 'edge-1',
      timestamp: '0000-01-01T00:00:00Z',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('body.timestamp');
  });

  it('stores an instant with an offset normalised to UTC', async () => {
    const res = await post('/api/messages/sms', { ...sms, timestamp: '2024-11-01T14:00:00-05:00' });
    expect(res.statusCode).toBe(202);
    expect((await requested(res.json().id)).timestamp).toBe('2024-11-01T19:00:00.000Z');
  });

  it('defaults a missing timestamp to when the request was received', async () => {
    const res = await post('/api/messages/sms', sms);
    expect(res.statusCode).toBe(202);
    expect((await requested(res.json().id)).timestamp).toBe(received.toISOString());
  });
});
