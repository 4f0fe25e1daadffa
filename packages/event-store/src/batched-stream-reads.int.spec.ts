import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedStreamReads } from './batched-stream-reads.ts';
import { testEvent } from './contract/event-store.contract.ts';
import type { EventStore } from './event-store.ts';
import { PostgresEventStore } from './postgres/postgres-event-store.ts';

let db: TestDatabase;
let store: PostgresEventStore;
beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
});
afterAll(async () => {
  await store.close();
  await db.drop();
});

/** The store's readStreams, counting its queries and how many ran at once. */
function counted(inner: Pick<EventStore, 'readStreams'>) {
  const stats = { queries: 0, running: 0, mostAtOnce: 0, streams: [] as string[][] };
  return {
    stats,
    async readStreams(ids: string[]) {
      stats.queries++;
      stats.streams.push(ids);
      stats.mostAtOnce = Math.max(stats.mostAtOnce, ++stats.running);
      try {
        return await inner.readStreams(ids);
      } finally {
        stats.running--;
      }
    },
  };
}

describe('batchedStreamReads', () => {
  it('answers each read with its own stream, in version order, and an unknown stream as empty', async () => {
    const a = `consent-${randomUUID()}`;
    const b = `consent-${randomUUID()}`;
    await store.append(a, [testEvent('First'), testEvent('Second')]);
    await store.append(b, [testEvent('Other')]);
    const read = batchedStreamReads(store);
    const [ra, rb, missing] = await Promise.all([read(a), read(b), read(`consent-${randomUUID()}`)]);
    expect(ra.map((e) => e.type)).toEqual(['First', 'Second']);
    expect(rb.map((e) => e.type)).toEqual(['Other']);
    expect(missing).toEqual([]);
  });

  it('shares one query among reads of one turn and keeps at most maxInFlight queries running', async () => {
    const reads = counted(store);
    const read = batchedStreamReads(reads, { maxInFlight: 2, maxBatch: 10 });
    const streams = Array.from({ length: 45 }, () => `consent-${randomUUID()}`);
    await Promise.all(streams.map((s) => read(s)));
    expect(reads.stats.queries).toBe(5);
    expect(reads.stats.mostAtOnce).toBe(2);
    expect(reads.stats.streams.flat().sort()).toEqual([...streams].sort());
  });

  it('never answers a read from a query sent before it was asked (a consent change binds the next send)', async () => {
    const stream = `consent-${randomUUID()}`;
    // The first query runs at once (its snapshot predates the append) but answers only when released.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const read = batchedStreamReads({
      readStreams: async (ids) => {
        const answer = await store.readStreams(ids);
        if (++calls === 1) await held;
        return answer;
      },
    });
    const before = read(stream);
    await new Promise((r) => setImmediate(r));
    await store.append(stream, [testEvent('OptedOut')]);
    const after = read(stream);
    await new Promise((r) => setImmediate(r));
    release();
    expect((await before).map((e) => e.type)).toEqual([]);
    expect((await after).map((e) => e.type)).toEqual(['OptedOut']);
  });

  it('rejects every read of a failed query, and the next reads run again', async () => {
    let fail = true;
    const read = batchedStreamReads({
      readStreams: async (ids) => {
        if (fail) throw new Error('connection refused');
        return store.readStreams(ids);
      },
    });
    const results = await Promise.allSettled([read('consent-x'), read('consent-y')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await read('consent-x')).toEqual([]);
  });
});
