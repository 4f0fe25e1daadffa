import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createLogger } from '@hatch/platform';
import { allProjections, createReadPool, type ReadPool } from '@hatch/projections';
import { appendWorkload, conversationIdFor, mixedWorkload } from '@hatch/projections/workload';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { openEventStream, type SseEvent, waitUntil } from '@hatch/testing/sse';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryApi } from './app.ts';

const logger = createLogger('query-api-test', { level: 'silent' });
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers as loose JSON; the schemas are checked by the server
type Body = Record<string, any>;

type StreamEvent = SseEvent<{ position: string; type: string; conversationId: string | null; messageId: string }>;
const openStream = (url: string, headers: Record<string, string> = {}) =>
  openEventStream<StreamEvent['data']>(url, headers);

describe('query API', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;
  let readPool: ReadPool;
  let projector: Projector;
  let app: Awaited<ReturnType<typeof createQueryApi>>;
  let base: string;
  let head: string;
  let nextMessage = 200;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 200 });
    pool = new pg.Pool({ connectionString: db.url, max: 10 });
    projector = new Projector({
      pool,
      databaseUrl: db.url,
      store,
      projections: allProjections,
      logger,
      lockRetryMs: 50,
    });
    projector.start();
    head = (await appendWorkload(store, mixedWorkload({ messages: 200, contacts: 20, seed: 'q' }))) as string;
    await waitForCheckpoints(pool, allProjections, head);
    readPool = await createReadPool(db.url, { maximumPoolSize: 5 });
    app = await createQueryApi({
      pool: readPool,
      store,
      logger,
      accountScope: () => null,
      readYourWritesTimeoutMs: 400,
      heartbeatMs: 150,
    });
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await app?.close();
    await projector?.stop();
    await store?.close();
    await readPool?.end();
    await pool?.end();
    await db?.drop();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
  };
  /** New messages (new contacts: conversations with newer activity than any before). */
  const appendMessages = async (count: number, contacts = 20) => {
    const from = nextMessage;
    nextMessage += count;
    return (await appendWorkload(store, mixedWorkload({ messages: count, from, contacts, seed: 'q' }))) as string;
  };

  it('lists conversations by last activity, filters by participant and channel, and serves messages and history', async () => {
    const all = await get('/api/conversations?limit=200');
    expect(all.status).toBe(200);
    expect(all.headers.get('x-hatch-position')).toBe(head);
    const items = all.body.items as {
      id: string;
      lastActivityAt: string;
      participants: string[];
      channels: string[];
    }[];
    expect(items.length).toBe(20);
    const times = items.map((c) => c.lastActivityAt);
    expect([...times].sort().reverse()).toEqual(times);

    // contact 3 is +15551000003; formatted the way a person types it
    const byPhone = await get(`/api/conversations?participant=${encodeURIComponent('(555) 100-0003')}`);
    expect(byPhone.body.items.length).toBeGreaterThan(0);
    for (const c of byPhone.body.items) expect(c.participants).toContain('+15551000003');
    const byEmail = await get(`/api/conversations?participant=${encodeURIComponent('Contact2@Example.com')}`);
    expect(byEmail.body.items.map((c: { id: string }) => c.id)).toEqual([
      conversationIdFor('support@hatch.dev', 'contact2@example.com'),
    ]);
    const email = await get('/api/conversations?channel=email');
    for (const c of email.body.items) expect(c.channels).toContain('email');

    const conversationId = byEmail.body.items[0].id;
    const one = await get(`/api/conversations/${conversationId}`);
    expect(one.body).toMatchObject({ id: conversationId, participants: ['contact2@example.com', 'support@hatch.dev'] });
    const messages = await get(`/api/conversations/${conversationId}/messages?limit=100`);
    expect(messages.body.items.length).toBe(one.body.messageCount);
    const created = messages.body.items.map((m: { createdAt: string }) => m.createdAt);
    expect([...created].sort()).toEqual(created);

    const retried = messages.body.items.find((m: { body: string }) => /^message \d*5 /.test(m.body));
    if (retried) {
      const detail = await get(`/api/messages/${retried.id}`);
      expect(detail.body.status).toBe('delivered');
      expect(detail.body.history.map((h: { status: string }) => h.status)).toEqual([
        'queued',
        'retry_scheduled',
        'sent',
        'delivered',
        'delivered',
      ]);
    }
    const missing = await get('/api/messages/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((await get('/api/conversations?cursor=bm9wZQ')).status).toBe(400);
    expect((await get('/api/conversations/not-a-uuid')).status).toBe(400);
    expect((await get('/api/conversations?after=nope')).status).toBe(400);
    expect((await fetch(`${base}/api/stream`, { headers: { 'Last-Event-ID': 'nope' } })).status).toBe(400);
  });

  it('waits for the projection on ?after= / X-Hatch-Min-Position, and answers 503 when it cannot catch up in time', async () => {
    const position = await appendMessages(5);
    const { body, headers } = await get(`/api/conversations?after=${position}&limit=1`);
    expect(headers.get('x-hatch-position')! >= position).toBe(true);
    expect(body.items[0].lastMessage.preview).toContain(`message ${nextMessage - 1}`);
    const viaHeader = await get('/api/conversations?limit=1', { 'X-Hatch-Min-Position': position });
    expect(viaHeader.status).toBe(200);

    await projector.stop();
    try {
      const later = await appendMessages(1);
      const started = Date.now();
      const res = await get(`/api/conversations?after=${later}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.type).toBe('https://hatch.dev/problems/projection-behind');
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    } finally {
      projector.start();
    }
  });

  it('keeps cursor pagination stable while messages arrive', async () => {
    // Conversations that move up while a client pages (new activity) show at the top, not again below; only
    // new conversations arrive during this test, so every earlier one must be seen exactly once.
    const before = await get(`/api/conversations?limit=200&after=${await store.headPosition()}`);
    const existing = new Set(before.body.items.map((c: { id: string }) => c.id));
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserts = 0;
    do {
      const page: { body: Body } = await get(`/api/conversations?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
      // new conversations (new contacts) with newer activity arrive between pages
      const position = await appendMessages(3, 1000 + inserts++);
      await waitForCheckpoints(pool, allProjections, position);
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of existing) expect(seen).toContain(id);

    const conversationId = before.body.items[0].id as string;
    const original = await get(`/api/conversations/${conversationId}/messages?limit=200`);
    const messages: string[] = [];
    cursor = null;
    do {
      const page: { body: Body } = await get(
        `/api/conversations/${conversationId}/messages?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      messages.push(...page.body.items.map((m: { id: string }) => m.id));
      cursor = page.body.nextCursor;
      await waitForCheckpoints(pool, allProjections, await appendMessages(20));
    } while (cursor);
    expect(new Set(messages).size).toBe(messages.length);
    expect(messages.slice(0, original.body.items.length)).toEqual(original.body.items.map((m: { id: string }) => m.id));
  });

  it('streams changes over SSE with the log position as id; Last-Event-ID resumes with no gap and no duplicate', async () => {
    const startAt = (await store.headPosition()) as string;
    await waitForCheckpoints(pool, allProjections, startAt);
    const first = openStream(`${base}/api/stream`);
    const res = await first.ready;
    expect(res.headers['content-type']).toContain('text/event-stream');
    const mid = await appendMessages(10);
    await waitUntil(() => first.events.some((e) => e.id === mid));
    // disconnect part-way: keep only what arrived, then more events happen while away
    first.close();
    const received = [...first.events];
    const lastId = (received.at(-1) as StreamEvent).id;
    const end = await appendMessages(10);
    const second = openStream(`${base}/api/stream`, { 'Last-Event-ID': lastId });
    await second.ready;
    await waitUntil(() => second.events.some((e) => e.id === end));
    await waitUntil(() => second.comments.includes('heartbeat'), 2000);
    second.close();

    const expected = (await store.readAll({ after: startAt, limit: 10_000 })).filter((e) => e.position <= end);
    const got = [...received, ...second.events].map((e) => e.id);
    expect(got).toEqual(expected.map((e) => e.position));
    expect(received.every((e) => e.event === e.data.type && e.id === e.data.position)).toBe(true);

    // one conversation's stream sees exactly its own changes
    const all = [...received, ...second.events];
    const conversationId = all.find((e) => e.data.conversationId !== null)?.data.conversationId as string;
    const own = all.filter((e) => e.data.conversationId === conversationId).map((e) => e.id);
    const scoped = openStream(`${base}/api/conversations/${conversationId}/stream?lastEventId=${startAt}`);
    await scoped.ready;
    await waitUntil(() => scoped.events.length >= own.length, 5000);
    scoped.close();
    expect(scoped.events.map((e) => e.id)).toEqual(own);

    // a stream left open must not keep the server from closing (afterAll closes it)
    await openStream(`${base}/api/stream`).ready;
  });
});
