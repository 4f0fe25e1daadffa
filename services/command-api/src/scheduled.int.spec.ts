// Scheduled sends on the command side, against real PostgreSQL: send_at validation (1 minute to 35 days
// ahead, UTC), the `scheduled` answer, and DELETE /api/messages/:id (cancel while scheduled, 409 after).
import { currentSchemaVersion, messageEventId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandApi } from './app.ts';
import { defaultCommandApiConfig } from './config.ts';

const now = new Date('2024-11-01T14:00:00.000Z');
const ahead = (ms: number) => new Date(now.getTime() + ms).toISOString();
const sms = (sendAt: unknown) => ({
  from: '+12016661234',
  to: '+18045551234',
  type: 'sms',
  body: 'see you tomorrow',
  attachments: null,
  timestamp: '2024-11-01T14:00:00Z',
  send_at: sendAt,
});

let db: TestDatabase;
let store: PostgresEventStore;
let sql: pg.Client;
let app: Awaited<ReturnType<typeof createCommandApi>>;

const cancel = (id: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'DELETE', url: `/api/messages/${id}`, headers });
const streamTypes = async (id: string) =>
  (
    await sql.query('SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version', [`message-${id}`])
  ).rows.map((r) => r.event_type);

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  app = await createCommandApi({
    eventStore: store,
    clock: { now: () => now },
    logger: createLogger('scheduled-test', { level: 'silent' }),
    config: defaultCommandApiConfig({
      appendTimeoutMs: 1500,
      apiKeys: new Map([
        ['key-of-a-123', 'a'],
        ['key-of-b-123', 'b'],
      ]),
    }),
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  await sql?.end();
  await db?.drop();
});

const asA = { authorization: 'Bearer key-of-a-123' };

describe('send_at', () => {
  it('accepts 1 minute to 35 days ahead (UTC) and answers scheduled', async () => {
    for (const sendAt of [ahead(60_000), ahead(35 * 24 * 3_600_000)]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/messages/sms',
        payload: JSON.stringify(sms(sendAt)),
        headers: { 'content-type': 'application/json', ...asA },
      });
      expect(res.statusCode, sendAt).toBe(202);
      expect(res.json().status).toBe('scheduled');
      const [requested] = (
        await sql.query('SELECT data FROM events WHERE stream_id = $1', [`message-${res.json().id}`])
      ).rows;
      expect(requested.data.sendAt).toBe(sendAt);
    }
    const immediate = await app.inject({
      method: 'POST',
      url: '/api/messages/email',
      payload: JSON.stringify({ ...sms(null), type: undefined, to: 'a@b.com', from: 'me@usehatchapp.com' }),
      headers: { 'content-type': 'application/json', ...asA },
    });
    expect(immediate.json().status).toBe('queued');
  });

  it('refuses send_at too soon, too far, in the past or not UTC with 400 naming body.send_at', async () => {
    for (const sendAt of [
      ahead(59_000),
      ahead(35 * 24 * 3_600_000 + 1000),
      ahead(-60_000),
      '2024-11-01T16:00:00+02:00',
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/messages/sms',
        payload: JSON.stringify(sms(sendAt)),
        headers: { 'content-type': 'application/json', ...asA },
      });
      expect(res.statusCode, sendAt).toBe(400);
      expect(JSON.stringify(res.json().errors), sendAt).toContain('body.send_at');
    }
  });
});

describe('DELETE /api/messages/:id', () => {
  const schedule = async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: JSON.stringify(sms(ahead(3_600_000))),
      headers: { 'content-type': 'application/json', ...asA },
    });
    return res.json().id as string;
  };

  it('cancels a scheduled send (MessageCancelled); again answers 200; other clients see 404', async () => {
    const id = await schedule();
    expect((await cancel(id, { authorization: 'Bearer key-of-b-123' })).statusCode).toBe(404);
    const first = await cancel(id, asA);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id, status: 'cancelled' });
    expect((await cancel(id, asA)).statusCode).toBe(200);
    expect(await streamTypes(id)).toEqual(['MessageRequested', 'MessageCancelled']);
    expect((await cancel('00000000-0000-4000-8000-000000000000', asA)).statusCode).toBe(404);
  });

  it('answers 409 once dispatch began, and for a send that was never scheduled', async () => {
    const id = await schedule();
    // What the dispatcher appends when it takes the due message.
    await store.append(
      `message-${id}`,
      [
        {
          id: messageEventId(id, 'MessageDispatchStarted'),
          type: 'MessageDispatchStarted',
          data: { messageId: id, startedAt: ahead(3_600_000) },
          metadata: { correlationId: 'x', causationId: null, actor: 'dispatcher', schemaVersion: currentSchemaVersion },
        },
      ],
      0,
    );
    const refused = await cancel(id, asA);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().type).toBe('https://hatch.dev/problems/message-not-cancellable');
    expect(await streamTypes(id)).toEqual(['MessageRequested', 'MessageDispatchStarted']);

    const immediate = await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: JSON.stringify(sms(null)),
      headers: { 'content-type': 'application/json', ...asA },
    });
    expect((await cancel(immediate.json().id, asA)).statusCode).toBe(409);
  });
});
