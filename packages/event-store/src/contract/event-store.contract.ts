// The one contract every event-log adapter must pass. Run it from an adapter's spec (*.int.spec.ts; the
// in-memory adapter's *.unit.spec.ts needs no database) with
// a harness that builds a fresh, empty store.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventIdConflictError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '../event-store.ts';

export interface HeldAppend {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface ContractHarness {
  store: EventStore;
  /**
   * Starts an append whose transaction stays open until commit()/rollback(): a slow writer.
   * Adapters whose appends are atomic on the server (EventStoreDB) cannot offer it.
   */
  holdOpenAppend?: (streamId: string, event: NewEvent) => Promise<HeldAppend>;
  close(): Promise<void>;
}

export const testEvent = (type = 'TestHappened', data: unknown = { n: 1 }): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: { correlationId: randomUUID(), causationId: null, actor: 'contract-test', schemaVersion: 1 },
});

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

export function describeEventStoreContract(adapter: string, makeHarness: () => Promise<ContractHarness>) {
  describe(`event store contract: ${adapter}`, () => {
    let harness: ContractHarness;
    let store: EventStore;
    // Each test uses its own category so tests never see each other's events.
    const category = () => `c${randomUUID().replaceAll('-', '').slice(0, 12)}`;

    beforeAll(async () => {
      harness = await makeHarness();
      store = harness.store;
    });
    afterAll(async () => {
      await harness?.close();
    });

    it('reads its own append back from the stream with versions and metadata', async () => {
      const stream = `${category()}-1`;
      const events = [testEvent('A', { a: 1 }), testEvent('B', { b: [1, 2] })];
      const result = await store.append(stream, events, 'no_stream');
      expect(result).toMatchObject({ nextExpectedVersion: 1, duplicate: false });
      const read = await store.readStream(stream);
      expect(read.map((e) => [e.id, e.type, e.data, e.streamVersion])).toEqual([
        [events[0]?.id, 'A', { a: 1 }, 0],
        [events[1]?.id, 'B', { b: [1, 2] }, 1],
      ]);
      expect(read[0]?.metadata).toEqual(events[0]?.metadata);
      expect(read[1]?.position).toBe(result.position);
      expect(String(read[0]?.position) < String(read[1]?.position)).toBe(true);
      expect(await store.readStream(stream, { fromVersion: 1 })).toHaveLength(1);
      expect(await store.readStream(`${category()}-missing`)).toEqual([]);
    });

    it('reads several streams at once, each in stream order, missing ones empty', async () => {
      const cat = category();
      await store.append(`${cat}-a`, [testEvent('A1'), testEvent('A2')]);
      await store.append(`${cat}-b`, [testEvent('B1')]);
      await store.append(`${cat}-a`, [testEvent('A3')]);
      const streams = await store.readStreams([`${cat}-b`, `${cat}-missing`, `${cat}-a`, `${cat}-b`]);
      expect([...streams.keys()].sort()).toEqual([`${cat}-a`, `${cat}-b`, `${cat}-missing`]);
      expect(streams.get(`${cat}-a`)?.map((e) => [e.type, e.streamVersion])).toEqual([
        ['A1', 0],
        ['A2', 1],
        ['A3', 2],
      ]);
      expect(streams.get(`${cat}-b`)).toEqual(await store.readStream(`${cat}-b`));
      expect(streams.get(`${cat}-missing`)).toEqual([]);
      expect((await store.readStreams([])).size).toBe(0);
    });

    it('rejects an append whose expected version does not match, with a typed error', async () => {
      const stream = `${category()}-1`;
      await store.append(stream, [testEvent()], 'no_stream');
      await expect(store.append(stream, [testEvent()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedVersionError);
      const stale = await store.append(stream, [testEvent()], 5).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(WrongExpectedVersionError);
      expect((stale as WrongExpectedVersionError).actual).toBe(0);
      await expect(store.append(`${category()}-none`, [testEvent()], 'stream_exists')).rejects.toBeInstanceOf(
        WrongExpectedVersionError,
      );
      expect((await store.append(stream, [testEvent()], 0)).nextExpectedVersion).toBe(1);
      expect((await store.append(stream, [testEvent()], 'stream_exists')).nextExpectedVersion).toBe(2);
      expect((await store.append(stream, [testEvent()], 'any')).nextExpectedVersion).toBe(3);
      expect(await store.readStream(stream)).toHaveLength(4);
    });

    it('lets exactly one of many racing appends with the same expected version win', async () => {
      const stream = `${category()}-race`;
      await store.append(stream, [testEvent()], 'no_stream');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () => store.append(stream, [testEvent()], 0)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes.filter((x) => x.status === 'rejected')) {
        expect((o as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
      }
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('treats a re-append of the same event ids as a no-op returning the original result', async () => {
      const stream = `${category()}-1`;
      const events = [testEvent(), testEvent()];
      const first = await store.append(stream, events, 'no_stream');
      const again = await store.append(stream, events, 'no_stream');
      expect(again).toEqual({ ...first, duplicate: true });
      const anyAgain = await store.append(stream, events, 'any');
      expect(anyAgain.position).toBe(first.position);
      expect(await store.readStream(stream)).toHaveLength(2);
      // Same ids in another stream are a client bug, not a retry.
      await expect(store.append(`${category()}-2`, events, 'any')).rejects.toBeInstanceOf(EventIdConflictError);
    });

    it('reads all events in one global order, optionally by category, from a position', async () => {
      const cat = category();
      const other = category();
      await store.append(`${cat}-a`, [testEvent('A1'), testEvent('A2')]);
      await store.append(`${other}-x`, [testEvent('X1')]);
      await store.append(`${cat}-b`, [testEvent('B1')]);
      const mine = await store.readAll({ category: cat });
      expect(mine.map((e) => e.type)).toEqual(['A1', 'A2', 'B1']);
      const afterFirst = await store.readAll({ category: cat, after: mine[0]?.position });
      expect(afterFirst.map((e) => e.type)).toEqual(['A2', 'B1']);
      const everything = await store.readAll({ after: null, limit: 100_000 });
      const positions = everything.map((e) => e.position);
      expect([...positions].sort()).toEqual(positions);
      expect(new Set(positions).size).toBe(positions.length);
      expect(await store.headPosition()).toBe(positions.at(-1));
    });

    it('never lets a subscriber skip an event whose slow transaction commits after a faster one', async (ctx) => {
      if (!harness.holdOpenAppend) {
        console.log(`[${adapter}] slow-writer test skipped: the adapter cannot hold an append open`);
        ctx.skip();
        return;
      }
      const cat = category();
      const seen: RecordedEvent[] = [];
      const sub = store.subscribe({
        category: cat,
        handler: async (events) => {
          seen.push(...events);
        },
      });
      const slowEvent = testEvent('Slow');
      const held = await harness.holdOpenAppend(`${cat}-slow`, slowEvent); // position assigned, not committed
      const fast = await store.append(`${cat}-fast`, [testEvent('Fast')]); // later position, commits first
      await new Promise((r) => setTimeout(r, 300));
      // A reader checkpointing on the fast event now would skip the slow one forever.
      expect(seen.map((e) => e.type)).toEqual([]);
      expect(await store.readAll({ category: cat })).toEqual([]);
      await held.commit();
      await until(() => seen.length >= 2);
      expect(seen.map((e) => e.type)).toEqual(['Slow', 'Fast']);
      expect(seen[1]?.position).toBe(fast.position);
      await sub.stop();
    });

    it('is unharmed by rolled-back appends (gaps in positions)', async (ctx) => {
      if (!harness.holdOpenAppend) {
        console.log(`[${adapter}] rollback test skipped: the adapter cannot hold an append open`);
        ctx.skip();
        return;
      }
      const cat = category();
      await store.append(`${cat}-1`, [testEvent('Before')]);
      const held = await harness.holdOpenAppend(`${cat}-2`, testEvent('RolledBack'));
      await held.rollback();
      await store.append(`${cat}-3`, [testEvent('After')]);
      expect((await store.readAll({ category: cat })).map((e) => e.type)).toEqual(['Before', 'After']);
      expect(await store.readStream(`${cat}-2`)).toEqual([]);
      expect((await store.append(`${cat}-2`, [testEvent('Fresh')], 'no_stream')).nextExpectedVersion).toBe(0);
    });

    it('delivers every event of many concurrent writers exactly once, in one order', async () => {
      const cat = category();
      const writers = 16;
      const perWriter = 60;
      const seen: RecordedEvent[] = [];
      const sub = store.subscribe({
        category: cat,
        batchSize: 50,
        handler: async (events) => {
          seen.push(...events);
        },
      });
      const written: string[] = [];
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            const stream = i % 3 === 0 ? `${cat}-shared${w}` : `${cat}-w${w}i${i}`;
            const event = testEvent('Written', { w, i });
            await store.append(stream, [event], 'any');
            written.push(event.id);
          }
        }),
      );
      await until(() => seen.length >= written.length);
      await new Promise((r) => setTimeout(r, 100));
      await sub.stop();
      expect(seen).toHaveLength(written.length);
      expect(new Set(seen.map((e) => e.id))).toEqual(new Set(written));
      const positions = seen.map((e) => e.position);
      expect([...positions].sort()).toEqual(positions);
      const replay = await store.readAll({ category: cat, limit: 100_000 });
      expect(replay.map((e) => e.id)).toEqual(seen.map((e) => e.id));
    });

    it('resumes a subscription from a checkpoint without repeating or missing events', async () => {
      const cat = category();
      for (let i = 0; i < 5; i++) await store.append(`${cat}-${i}`, [testEvent('E', { i })]);
      const all = await store.readAll({ category: cat });
      const seen: RecordedEvent[] = [];
      const sub = store.subscribe({
        category: cat,
        after: all[2]?.position,
        handler: async (events) => {
          seen.push(...events);
        },
      });
      await store.append(`${cat}-late`, [testEvent('Late')]);
      await until(() => seen.length >= 3);
      await sub.stop();
      expect(seen.map((e) => (e.data as { i?: number }).i ?? e.type)).toEqual([3, 4, 'Late']);
    });

    it('keeps unicode and large payloads intact', async () => {
      const stream = `${category()}-payload`;
      const text = 'héllo 👋🏽 مرحبا 你好 \u2028 "quotes" \\ backslash \t tab';
      const large = 'x'.repeat(1_000_000);
      const events = [testEvent('Unicode', { text }), testEvent('Large', { large, nested: { deep: [text] } })];
      await store.append(stream, events);
      const [unicode, big] = await store.readStream(stream);
      expect(unicode?.data).toEqual({ text });
      expect((big?.data as { large?: string } | undefined)?.large?.length).toBe(1_000_000);
      expect(big?.data).toEqual({ large, nested: { deep: [text] } });
    });
  });
}
