// A poison event (a value PostgreSQL refuses) is quarantined and the projector moves on; the events around
// it, in the same batch, still apply; a rebuild skips it the same way; a retry after a fix resolves it.
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import {
  allProjections,
  compareSchemas,
  createAuditTables,
  createReadPool,
  isPoisonError,
  listQuarantine,
  type QuarantinedEvent,
  type ReadPool,
  rebuildInto,
  retryQuarantined,
} from '@hatch/projections';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { messageRequested, newMessageEvent } from '@hatch/testing/events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Projector, waitForCheckpoints } from './projector.ts';

const logger = createLogger('quarantine-test', { level: 'silent' });

describe('projector quarantine', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;
  let readPool: ReadPool;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 100 });
    pool = new pg.Pool({ connectionString: db.url, max: 6 });
    readPool = await createReadPool(db.url, { maximumPoolSize: 2 });
  });
  afterAll(async () => {
    await store?.close();
    await readPool?.end();
    await pool?.end();
    await db?.drop();
  });

  const send = async (fields: Parameters<typeof messageRequested>[0] = {}) => {
    const data = messageRequested(fields);
    const result = await store.append(`message-${data.messageId}`, [newMessageEvent('MessageRequested', data)], 'any');
    return { data, position: result.position as string };
  };

  it('classifies data errors as poison and connection or serialization failures as transient', () => {
    expect(isPoisonError(Object.assign(new Error('date/time field value out of range'), { code: '22008' }))).toBe(true);
    expect(isPoisonError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(true);
    expect(isPoisonError(new RangeError('Invalid time value'))).toBe(true);
    expect(isPoisonError(Object.assign(new Error('could not serialize'), { code: '40001' }))).toBe(false);
    expect(isPoisonError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(false);
    expect(isPoisonError(new Error('Connection terminated unexpectedly'))).toBe(false);
  });

  it('quarantines a send PostgreSQL cannot store (year 0000), applies its neighbours, and moves on', async () => {
    const before = await send({ body: 'before the poison' });
    // what the edge used to accept: the domain schema takes it, the timestamptz columns refuse it
    const poison = await send({
      body: 'poison',
      timestamp: '0000-01-01T00:00:00Z',
      requestedAt: '0000-01-01T00:00:00Z',
    });
    const after = await send({ body: 'after the poison' });
    const seen: QuarantinedEvent[] = [];
    const projector = new Projector({
      pool,
      databaseUrl: db.url,
      store,
      projections: allProjections,
      logger,
      batchSize: 100,
      lockRetryMs: 50,
      onQuarantine: (events) => seen.push(...events),
    });
    projector.start();
    try {
      await waitForCheckpoints(pool, allProjections, after.position, 20_000);
      const bodies = await pool.query<{ body: string }>('SELECT body FROM messages ORDER BY body');
      expect(bodies.rows.map((r) => r.body)).toEqual(['after the poison', 'before the poison']);
      const open = await listQuarantine(pool);
      expect(open.length).toBeGreaterThan(0);
      expect(new Set(open.map((q) => q.position))).toEqual(new Set([poison.position]));
      expect(open[0]).toMatchObject({ eventType: 'MessageRequested', streamId: `message-${poison.data.messageId}` });
      expect(open.every((q) => q.sqlstate?.startsWith('22'))).toBe(true);
      expect(seen.map((q) => q.position)).toEqual(open.map((q) => q.position));
      expect(before.position < poison.position).toBe(true);

      // live work keeps flowing past it
      const later = await send({ body: 'later' });
      await waitForCheckpoints(pool, allProjections, later.position, 20_000);
      expect((await pool.query(`SELECT 1 FROM messages WHERE body = 'later'`)).rowCount).toBe(1);
    } finally {
      await projector.stop();
    }

    // a rebuild leaves the poison event out the same way: no drift
    const client = await pool.connect();
    try {
      await createAuditTables(client, allProjections, 'audit_poison');
      await rebuildInto({ store, db: client, projections: allProjections, schema: 'audit_poison', batchSize: 50 });
      const comparison = await compareSchemas(readPool, allProjections, 'public', 'audit_poison');
      expect(comparison.filter((t) => !t.equal)).toEqual([]);

      // still poison: a retry leaves it open with its error
      const refused = await retryQuarantined({ db: client, store, projections: allProjections });
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((o) => o.result === 'refused')).toBe(true);
      expect((await listQuarantine(client)).length).toBe(refused.length);
    } finally {
      client.release();
    }
  });

  it('resolves a quarantined event once it applies (bin/replay --retry-quarantined)', async () => {
    // A quarantine entry for an event that applies fine now stands in for "after the fix".
    const fixed = await send({ body: 'applies after the fix' });
    const [recorded] = await store.readStream(`message-${fixed.data.messageId}`);
    await pool.query(
      `INSERT INTO projection_quarantine (projection, position, event_id, event_type, stream_id, error)
       VALUES ('messages', $1, $2, $3, $4, 'refused before the fix')`,
      [recorded?.position, recorded?.id, recorded?.type, recorded?.streamId],
    );
    // the projector never ran on it: the retry is what puts it in the messages table
    await pool.query(`DELETE FROM messages WHERE body = 'applies after the fix'`);
    const client = await pool.connect();
    try {
      const outcomes = await retryQuarantined({ db: client, store, projections: allProjections });
      const mine = outcomes.filter((o) => o.entry.eventId === newMessageEvent('MessageRequested', fixed.data).id);
      expect(mine.map((o) => o.result)).toEqual(['resolved']);
      expect((await client.query(`SELECT 1 FROM messages WHERE body = 'applies after the fix'`)).rowCount).toBe(1);
      const all = await listQuarantine(client, { all: true });
      expect(all.find((q) => q.eventId === mine[0]?.entry.eventId)?.resolvedAt).not.toBeNull();
    } finally {
      client.release();
    }
  });
});
