import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEventStoreContract, testEvent } from '../contract/event-store.contract.ts';
import { loadCheckpoint, StaleCheckpointError, storeCheckpoint } from './checkpoints.ts';
import { PostgresEventStore } from './postgres-event-store.ts';

describeEventStoreContract('postgres', async () => {
  const db = await createTestDatabase();
  const store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 200 });
  const openClients = new Set<pg.Client>();
  return {
    store,
    async holdOpenAppend(streamId, event) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      openClients.add(client);
      await client.query('BEGIN');
      const { rows } = await client.query('SELECT outcome FROM hatch_append_events($1::jsonb)', [
        JSON.stringify([{ stream: streamId, expected: -2, events: [event] }]),
      ]);
      if (rows[0]?.outcome !== 'appended') throw new Error(`held append failed: ${rows[0]?.outcome}`);
      const end = async (sql: string) => {
        await client.query(sql);
        await client.end();
        openClients.delete(client);
      };
      return { commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') };
    },
    async close() {
      for (const c of openClients) await c.end().catch(() => {});
      await store.close();
      await db.drop();
    },
  };
});

describe('postgres adapter specifics', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await store.close();
    await db.drop();
  });

  it('groups concurrent appends into few commits without weakening per-stream checks', async () => {
    const before = await client.query(
      `SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()`,
    );
    const appends = Array.from({ length: 400 }, (_, i) =>
      store.append(`message-${randomUUID()}`, [testEvent('Grouped', { i })], 'no_stream'),
    );
    // A conflicting append inside the same burst fails alone.
    const stream = `message-${randomUUID()}`;
    await store.append(stream, [testEvent()], 'no_stream');
    const conflicting = store.append(stream, [testEvent()], 'no_stream');
    const results = await Promise.all(appends);
    await expect(conflicting).rejects.toThrow(/expected version/);
    const { rows } = await client.query(
      `SELECT count(DISTINCT transaction_id)::int AS txs FROM events WHERE event_type = 'Grouped'`,
    );
    expect(results).toHaveLength(400);
    expect(rows[0].txs).toBeLessThan(100);
    const after = await client.query(
      `SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()`,
    );
    expect(Number(after.rows[0].n) - Number(before.rows[0].n)).toBeGreaterThan(0);
  });

  it('orders by transaction id as a number, not as text (xid 10 after xid 9)', async () => {
    const own = await createTestDatabase();
    const ordered = new PostgresEventStore({ connectionString: own.url });
    const direct = new pg.Client({ connectionString: own.url });
    await direct.connect();
    try {
      // Old transaction ids (both below every running transaction, so visible), inserted out of order.
      await direct.query(
        `INSERT INTO events (transaction_id, stream_id, stream_version, category, event_id, event_type, data, metadata)
         VALUES ('10', 'order-a', 0, 'order', $1, 'Later', '{}', '{}'), ('9', 'order-b', 0, 'order', $2, 'Earlier', '{}', '{}')`,
        [randomUUID(), randomUUID()],
      );
      const events = await ordered.readAll();
      expect(events.map((e) => e.type)).toEqual(['Earlier', 'Later']);
      expect(await ordered.headPosition()).toBe(events[1]?.position);
    } finally {
      await direct.end();
      await ordered.close();
      await own.drop();
    }
  });

  it('stores a checkpoint inside the caller transaction and refuses a stale owner', async () => {
    const id = `projection-${randomUUID()}`;
    await client.query('BEGIN');
    await storeCheckpoint(client, id, '00000000000000000001-00000000000000000001', null);
    await client.query('ROLLBACK');
    expect(await loadCheckpoint(client, id)).toBeNull();

    await storeCheckpoint(client, id, '00000000000000000001-00000000000000000001', null);
    await storeCheckpoint(
      client,
      id,
      '00000000000000000001-00000000000000000005',
      '00000000000000000001-00000000000000000001',
    );
    // A stale owner still believes the checkpoint is at 1.
    await expect(
      storeCheckpoint(
        client,
        id,
        '00000000000000000001-00000000000000000003',
        '00000000000000000001-00000000000000000001',
      ),
    ).rejects.toBeInstanceOf(StaleCheckpointError);
    await expect(storeCheckpoint(client, id, '00000000000000000001-00000000000000000009', null)).rejects.toBeInstanceOf(
      StaleCheckpointError,
    );
    expect(await loadCheckpoint(client, id)).toBe('00000000000000000001-00000000000000000005');
  });
});

describe('postgres adapter ordering across transaction-id digit boundaries', () => {
  it('orders by transaction id numerically (xid 1000 after xid 999)', async () => {
    const db = await createTestDatabase();
    const store = new PostgresEventStore({ connectionString: db.url });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const current = async () => Number((await client.query('SELECT pg_current_xact_id()::text AS x')).rows[0].x);
      // Burn transaction ids (each autocommit pg_current_xact_id() takes one) up to just below a power of ten.
      let xid = await current();
      const boundary = 10 ** String(xid + 20).length;
      while (xid < boundary - 3) xid = await current();
      const stream = `order${randomUUID().slice(0, 8)}`;
      for (let i = 0; i < 6; i++) await store.append(`${stream}-${i}`, [testEvent('Ordered', { i })]);
      const read = await store.readAll({ category: stream });
      expect(read.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5]);
      const xids = read.map((e) => e.position.split('-')[0]);
      expect(xids.some((x) => Number(x) >= boundary)).toBe(true);
    } finally {
      await client.end();
      await store.close();
      await db.drop();
    }
  });
});
