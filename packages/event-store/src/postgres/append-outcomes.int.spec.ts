// Truthful append outcomes on real PostgreSQL: a waiting append is withdrawn (never written), the pending
// queue is bounded, a connection lost mid-write is "unknown" and settled by idempotent event ids, pools carry
// session timeouts, and the time subscribers spend behind the snapshot gate is measured.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEvent } from '../contract/event-store.contract.ts';
import { AppendNotWrittenError } from '../event-store.ts';
import { poolTimeouts } from './pool-timeouts.ts';
import { PostgresEventStore } from './postgres-event-store.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('postgres append outcomes and timeouts', () => {
  let db: TestDatabase;
  let sql: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  /** Blocks every append (not reads) until released. */
  async function lockAppends() {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE events IN EXCLUSIVE MODE');
    return async () => {
      await holder.query('COMMIT');
      await holder.end();
    };
  }
  const streamEvents = async (streamId: string) =>
    Number((await sql.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [streamId])).rows[0].n);

  it('withdraws an append that is still waiting when its caller gives up; one being written runs to its outcome', async () => {
    const store = new PostgresEventStore({ connectionString: db.url });
    try {
      const release = await lockAppends();
      const writing = store.append('order-writing', [testEvent()], 'no_stream');
      await sleep(100); // taken into a write, blocked on the lock
      const giveUp = new AbortController();
      const waiting = store.append('order-waiting', [testEvent()], 'no_stream', { signal: giveUp.signal });
      const waited = waiting.catch((error: unknown) => error);
      giveUp.abort();
      expect(await waited).toBeInstanceOf(AppendNotWrittenError);
      const tooLate = new AbortController();
      tooLate.abort();
      await expect(store.append('order-late', [testEvent()], 'any', { signal: tooLate.signal })).rejects.toThrow(
        AppendNotWrittenError,
      );
      await release();
      expect((await writing).duplicate).toBe(false);
      await sleep(100);
      expect(await streamEvents('order-writing')).toBe(1);
      expect(await streamEvents('order-waiting')).toBe(0);
      expect(await streamEvents('order-late')).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('refuses appends beyond the pending bound at once, and writes the ones it took', async () => {
    const store = new PostgresEventStore({ connectionString: db.url, maxPendingAppends: 2 });
    try {
      const release = await lockAppends();
      const first = store.append('bound-0', [testEvent()]);
      await sleep(100);
      const queued = [store.append('bound-1', [testEvent()]), store.append('bound-2', [testEvent()])];
      expect(store.pendingAppends).toBe(2);
      const refused = await store.append('bound-3', [testEvent()]).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AppendNotWrittenError);
      expect((refused as AppendNotWrittenError).reason).toBe('queue_full');
      await release();
      await Promise.all([first, ...queued]);
      expect(await streamEvents('bound-3')).toBe(0);
      expect(await streamEvents('bound-2')).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('settles an append whose connection died mid-write by writing it again (idempotent event ids)', async () => {
    // A TCP proxy between the store and PostgreSQL, cut while the write waits: no answer ever arrives.
    const target = new URL(db.url);
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const server = connect(Number(target.port), target.hostname);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = new URL(db.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String((proxy.address() as AddressInfo).port);
    const store = new PostgresEventStore({ connectionString: proxied.toString() });
    try {
      const release = await lockAppends();
      const append = store.append('lost-connection', [testEvent()], 'no_stream');
      await sleep(150);
      for (const s of [...sockets]) s.destroy();
      await sleep(50);
      await release();
      // Written once, whichever of the two writes (the cut one, the retry) got there.
      const result = await append;
      expect(result.nextExpectedVersion).toBe(0);
      expect(await streamEvents('lost-connection')).toBe(1);
    } finally {
      await store.close();
      proxy.close();
    }
  });

  it('answers an append whose write the server ended (it rolled back) as not accepted, never twice', async () => {
    const store = new PostgresEventStore({ connectionString: db.url });
    try {
      const release = await lockAppends();
      const append = store.append('terminated', [testEvent()], 'no_stream').catch((error: unknown) => error);
      await sleep(150);
      await sql.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE '%hatch_append_events%' AND pid <> pg_backend_pid()`,
      );
      await release();
      expect(await append).toMatchObject({ code: '57P01' });
      expect(await streamEvents('terminated')).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('ends a transaction left idle and a statement that runs too long', async () => {
    const pool = new pg.Pool({
      connectionString: db.url,
      ...poolTimeouts({ idleInTransactionTimeoutMs: 300, statementTimeoutMs: 300 }),
    });
    pool.on('error', () => {});
    try {
      await expect(pool.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
      const client = await pool.connect();
      client.on('error', () => {});
      await client.query('BEGIN');
      await sleep(900);
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
    } finally {
      await pool.end();
    }
  });

  it('measures how long subscribers are held behind the snapshot gate', async () => {
    const store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 100 });
    const seen: string[] = [];
    const subscription = store.subscribe({
      after: await store.headPosition(),
      handler: async (events) => {
        seen.push(...events.map((e) => e.streamId));
      },
    });
    const older = new pg.Client({ connectionString: db.url });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()'); // an older transaction id, still open
      await store.append('gated', [testEvent()]);
      await sleep(400);
      expect(seen).not.toContain('gated');
      expect(store.snapshotGateStats().heldSeconds).toBeGreaterThan(0.2);
      await older.query('COMMIT');
      for (let i = 0; i < 100 && !seen.includes('gated'); i++) await sleep(20);
      expect(seen).toContain('gated');
      const stats = store.snapshotGateStats();
      expect(stats.heldSeconds).toBe(0);
      expect(stats.totalHeldSeconds).toBeGreaterThan(0.2);
    } finally {
      await older.end().catch(() => {});
      await subscription.stop();
      await store.close();
    }
  });
});
