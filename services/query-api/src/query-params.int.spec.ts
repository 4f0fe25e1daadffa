// Every malformed cursor, position or number in a query is a 400 naming the parameter (20-digit numbers
// and NUL bytes used to reach PostgreSQL and answer 500).
import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createLogger } from '@hatch/platform';
import { allProjections, createReadPool, type ReadPool } from '@hatch/projections';
import { appendWorkload, mixedWorkload } from '@hatch/projections/workload';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryApi } from './app.ts';
import { encodeCursor } from './cursor.ts';

const logger = createLogger('query-params-test', { level: 'silent' });
const id = '00000000-0000-4000-8000-000000000000';
const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
const huge = '9'.repeat(20);

describe('query parameters', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;
  let readPool: ReadPool;
  let projector: Projector;
  let app: Awaited<ReturnType<typeof createQueryApi>>;
  let base: string;
  let conversation: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 200 });
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    projector = new Projector({ pool, databaseUrl: db.url, store, projections: allProjections, logger });
    projector.start();
    const head = (await appendWorkload(store, mixedWorkload({ messages: 5, seed: 'params' }))) as string;
    await waitForCheckpoints(pool, allProjections, head);
    readPool = await createReadPool(db.url, { maximumPoolSize: 3 });
    app = await createQueryApi({
      pool: readPool,
      store,
      logger,
      accountScope: () => null,
      readYourWritesTimeoutMs: 300,
      heartbeatMs: 150,
    });
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
    conversation = (await (await fetch(`${base}/api/conversations`)).json()).items[0].id;
  });
  afterAll(async () => {
    await app?.close();
    await projector?.stop();
    await store?.close();
    await readPool?.end();
    await pool?.end();
    await db?.drop();
  });

  const fields = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    return { status: res.status, fields: ((await res.json()).errors ?? []).map((e: { field: string }) => e.field) };
  };

  it.each([
    ['a 20-digit position in after', `/api/conversations?after=${huge}-${huge}`, 'querystring.after'],
    ['a position past bigint', `/api/conversations?after=00000000000000000001-${huge}`, 'querystring.after'],
    ['a malformed position', '/api/conversations?after=nope', 'querystring.after'],
    ['a position not in canonical form', '/api/conversations?after=1-1', 'querystring.after'],
    ['a cursor with 20-digit micros', `/api/conversations?cursor=${cursorOf(`${huge}.${id}`)}`, 'querystring.cursor'],
    [
      'a cursor with negative 20-digit micros',
      `/api/conversations?cursor=${cursorOf(`-${huge}.${id}`)}`,
      'querystring.cursor',
    ],
    ['a cursor that decodes to nothing', '/api/conversations?cursor=AAAA', 'querystring.cursor'],
    ['a huge limit', `/api/conversations?limit=${huge}`, 'querystring.limit'],
    ['a NUL byte in participant', '/api/conversations?participant=%2B1%00201', 'querystring.participant'],
    ['a NUL byte in cursor', '/api/conversations?cursor=a%00', 'querystring.cursor'],
    ['a NUL byte in a contacts search', '/api/contacts?q=a%00', 'querystring.q'],
    ['a 20-digit lastEventId', `/api/stream?lastEventId=${huge}-${huge}`, 'querystring.lastEventId'],
  ])('answers %s with 400 naming it', async (_name, path, field) => {
    const answer = await fields(path);
    expect(answer.status).toBe(400);
    expect(answer.fields).toContain(field);
  });

  it('names the header when the position came in a header', async () => {
    const minPosition = await fields('/api/conversations', { 'x-hatch-min-position': `${huge}-${huge}` });
    expect(minPosition).toEqual({ status: 400, fields: ['headers.x-hatch-min-position'] });
    const lastEvent = await fields('/api/stream', { 'last-event-id': `${huge}-${huge}` });
    expect(lastEvent).toEqual({ status: 400, fields: ['headers.last-event-id'] });
  });

  it('answers a message page cursor beyond the instants the tables hold with 400', async () => {
    const cursor = encodeCursor({ micros: huge, id });
    const answer = await fields(`/api/conversations/${conversation}/messages?cursor=${cursor}`);
    expect(answer).toEqual({ status: 400, fields: ['querystring.cursor'] });
  });
});
