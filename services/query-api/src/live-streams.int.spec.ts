// Live streams at scale, over real HTTP and PostgreSQL with a running projector: one tailer feeds many
// clients of two accounts (each sees only its own), a resume in the middle of a burst has no gap and no
// repeat, the caps answer 429/503 with Retry-After, a client that stops reading is cut and resumes, and
// the server's timeouts never cut a stream.
import { connect } from 'node:net';
import { isMessageEventType, newId } from '@hatch/domain';
import { type EventStore, PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createLogger } from '@hatch/platform';
import { allProjections, createReadPool, type ReadPool } from '@hatch/projections';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { messageRequested, messageSent, newMessageEvent } from '@hatch/testing/events';
import { openEventStream, waitUntil } from '@hatch/testing/sse';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryApi } from './app.ts';
import { LiveStreams, liveStreamLimitsFrom } from './live-streams.ts';

const logger = createLogger('live-streams-test', { level: 'silent' });
interface Change {
  position: string;
  conversationId: string | null;
}
const accounts = { a: newId(), b: newId() };
const conversations = { a: newId(), b: newId() };

let db: TestDatabase;
let store: PostgresEventStore;
let pool: pg.Pool;
let readPool: ReadPool;
let projector: Projector;
const closers: (() => Promise<unknown>)[] = [];

/** Counts the log reads the servers make (the tailer's and the catch-ups'). */
let logReads = 0;
const countingStore = (inner: EventStore): EventStore =>
  new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'readAll' || typeof value !== 'function') return value;
      return (...args: Parameters<EventStore['readAll']>) => {
        logReads++;
        return value.apply(target, args);
      };
    },
  });

/** A query API whose scope is the `x-account` header (none: every account). */
async function serve(
  options: { streams?: LiveStreams; heartbeatMs?: number; timeouts?: { requestMs: number; idleSocketMs: number } } = {},
) {
  const app = await createQueryApi(
    {
      pool: readPool,
      store: countingStore(store),
      logger,
      accountScope: (request) => {
        const account = request.headers['x-account'];
        return typeof account === 'string' ? account : null;
      },
      heartbeatMs: options.heartbeatMs ?? 200,
      watermarkPollMs: 20,
      streams: options.streams,
    },
    { timeouts: options.timeouts },
  );
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  closers.push(() => app.close());
  return `http://127.0.0.1:${port}`;
}

/** `count` sends, alternating accounts, each followed by its MessageSent (a receipt looked up by message). */
/** `count` appends written together (group-committed), then one more: its position is after all of them. */
async function flood(count: number) {
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const who = i % 2 === 0 ? 'a' : 'b';
      const requested = messageRequested({ accountId: accounts[who], conversationId: conversations[who] });
      return store.append(`message-${requested.messageId}`, [
        newMessageEvent('MessageRequested', requested),
        newMessageEvent('MessageSent', messageSent(requested.messageId)),
      ]);
    }),
  );
  return burst(1);
}

async function burst(count: number) {
  let last = '';
  for (let i = 0; i < count; i++) {
    const who = i % 2 === 0 ? 'a' : 'b';
    const requested = messageRequested({ accountId: accounts[who], conversationId: conversations[who] });
    const appended = await store.append(`message-${requested.messageId}`, [
      newMessageEvent('MessageRequested', requested),
      newMessageEvent('MessageSent', messageSent(requested.messageId)),
    ]);
    last = appended.position;
  }
  // The append's own position: the head readers see may still lag behind the snapshot gate.
  return last;
}

const settled = async (head: string) => waitForCheckpoints(pool, allProjections, head);

/** A fresh starting point: one more send, applied by the projector (its position is exact). */
const mark = async () => {
  const position = await burst(1);
  await settled(position);
  return position;
};

/** Message-event positions in (after, through], of one account or all. */
async function positions(after: string, through: string, account?: 'a' | 'b') {
  const events = [];
  for (let from = after; ; ) {
    const page = await store.readAll({ after: from, limit: 1000 });
    events.push(...page);
    if (page.length < 1000) break;
    from = (page.at(-1) as { position: string }).position;
  }
  const ownerOf = new Map<string, string>();
  const out: string[] = [];
  for (const e of events) {
    if (e.position > through || !isMessageEventType(e.type)) continue;
    const data = e.data as { messageId: string; accountId?: string };
    if (data.accountId) ownerOf.set(data.messageId, data.accountId);
    if (account === undefined || ownerOf.get(data.messageId) === accounts[account]) out.push(e.position);
  }
  return out;
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 50 });
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
  projector = new Projector({ pool, databaseUrl: db.url, store, projections: allProjections, logger, lockRetryMs: 50 });
  projector.start();
  await burst(4);
  readPool = await createReadPool(db.url, { maximumPoolSize: 5 });
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await projector?.stop();
  await store?.close();
  await readPool?.end();
  await pool?.end();
  await db?.drop();
});

describe('live streams', () => {
  it('one tailer fans out to many clients of two accounts; each sees exactly its own changes', async () => {
    const base = await serve({ streams: new LiveStreams(liveStreamLimitsFrom({ STREAMS_PER_ACCOUNT: 50 })) });
    const start = await mark();
    const clients = Array.from({ length: 40 }, (_, i) => {
      const who = i % 2 === 0 ? 'a' : 'b';
      const path = i % 4 < 2 ? '/api/stream' : `/api/conversations/${conversations[who]}/stream`;
      return { who, stream: openEventStream<Change>(`${base}${path}`, { 'x-account': accounts[who] }) } as const;
    });
    try {
      for (const c of clients) expect((await c.stream.ready).statusCode).toBe(200);
      // Everyone connected: one send reaches all 40 with a handful of log reads, not one per client.
      const readsBefore = logReads;
      const first = await burst(1);
      await waitUntil(() => clients.every((c) => c.who === 'b' || c.stream.events.some((e) => e.id <= first)), 10_000);
      expect(logReads - readsBefore).toBeLessThan(10);
      const head = await burst(30);
      await settled(head);
      const expected = { a: await positions(start, head, 'a'), b: await positions(start, head, 'b') };
      expect(expected.a.length).toBe(32);
      await waitUntil(() => clients.every((c) => c.stream.events.some((e) => e.id === expected[c.who].at(-1))), 15_000);
      for (const c of clients) {
        expect(c.stream.events.map((e) => e.id)).toEqual(expected[c.who]);
        for (const e of c.stream.events) expect(e.data.conversationId).toBe(conversations[c.who]);
      }
    } finally {
      for (const c of clients) c.stream.close();
    }
  });

  it('a client resuming in the middle of a burst catches up, then goes live with no gap and no repeat', async () => {
    const base = await serve();
    const start = await mark();
    const live = openEventStream<Change>(`${base}/api/stream`);
    await live.ready;
    const writing = burst(120);
    // Resume from a position the tailer has already passed while the burst is still being written.
    await waitUntil(() => live.events.length >= 60, 15_000);
    const resumeFrom = (live.events[20] as { id: string }).id;
    const resumed = openEventStream<Change>(`${base}/api/stream`, { 'Last-Event-ID': resumeFrom });
    const headAtResume = live.events.at(-1)?.id as string;
    const head = await writing;
    // The resume really came in the middle: the burst went on after it.
    expect(headAtResume < head).toBe(true);
    try {
      await settled(head);
      const all = await positions(start, head);
      expect(all.length).toBe(240);
      await waitUntil(() => [live, resumed].every((s) => s.events.some((e) => e.id === head)), 15_000);
      expect(live.events.map((e) => e.id)).toEqual(all);
      expect(resumed.events.map((e) => e.id)).toEqual(all.filter((p) => p > resumeFrom));
    } finally {
      live.close();
      resumed.close();
    }
  });

  it('caps streams per account (429) and in total (503), with Retry-After; a freed slot admits again', async () => {
    const streams = new LiveStreams(
      liveStreamLimitsFrom({ STREAMS_PER_ACCOUNT: 2, STREAMS_TOTAL: 3, STREAM_RETRY_AFTER_SECONDS: 7 }),
    );
    const base = await serve({ streams });
    const open = (who: 'a' | 'b') => openEventStream<Change>(`${base}/api/stream`, { 'x-account': accounts[who] });
    const held = [open('a'), open('a'), open('b')];
    try {
      for (const s of held) expect((await s.ready).statusCode).toBe(200);
      const refused = async (who: 'a' | 'b', path = '/api/stream') => {
        const res = await fetch(`${base}${path}`, { headers: { 'x-account': accounts[who] } });
        return {
          status: res.status,
          type: res.headers.get('content-type'),
          retryAfter: res.headers.get('retry-after'),
          body: (await res.json()) as { type: string },
        };
      };
      const overAccount = await refused('a', `/api/conversations/${conversations.a}/stream`);
      expect(overAccount).toMatchObject({ status: 429, retryAfter: '7' });
      expect(overAccount.type).toContain('application/problem+json');
      expect(overAccount.body.type).toContain('too-many-streams');
      const overTotal = await refused('b');
      expect(overTotal).toMatchObject({ status: 503, retryAfter: '7' });
      expect(overTotal.body.type).toContain('streams-full');
      held[0]?.close();
      await waitUntil(() => streams.size === 2, 5000);
      const again = open('b');
      expect((await again.ready).statusCode).toBe(200);
      held.push(again);
      // The hook for revoked keys or sessions: end an account's streams from outside.
      expect(streams.endWhere((s) => s.account === accounts.b)).toBe(2);
      await waitUntil(() => streams.size === 1, 5000);
    } finally {
      for (const s of held) s.close();
    }
  });

  it('cuts a client that stops reading (bounded unsent bytes) and it resumes from its last whole event', async () => {
    const streams = new LiveStreams(liveStreamLimitsFrom({ STREAM_BUFFER_BYTES: 4096 }));
    const base = await serve({ streams, heartbeatMs: 60_000 });
    const start = await mark();
    const url = new URL(`${base}/api/stream`);
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
    });
    socket.write(`GET /api/stream HTTP/1.1\r\nhost: ${url.host}\r\naccept: text/event-stream\r\n\r\n`);
    await waitUntil(() => received.includes('stream from'), 5000);
    socket.pause();
    // Far more than the socket buffers hold: the server's unsent bytes pass the bound and it cuts.
    let head = start;
    // Written together, so the kernel's socket buffers (sized by the machine, megabytes on loopback) fill in
    // seconds however large they are.
    for (let round = 0; round < 40 && streams.size > 0; round++) head = await flood(1000);
    await waitUntil(() => streams.size === 0, 15_000);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.resume();
    await closed;
    const ids = [...received.matchAll(/^id: (\S+)\n(?:[^\n]+\n)*\n/gm)].map((m) => m[1] as string);
    const lastWhole = ids.at(-1) as string;
    expect(ids.length).toBeGreaterThan(0);
    await settled(head);
    const all = await positions(start, head);
    expect(ids).toEqual(all.slice(0, ids.length));
    expect(ids.length).toBeLessThan(all.length);
    const resumed = openEventStream<Change>(`${base}/api/stream`, { 'Last-Event-ID': lastWhole });
    try {
      await waitUntil(() => resumed.events.some((e) => e.id === head), 30_000);
      expect([...ids, ...resumed.events.map((e) => e.id)]).toEqual(all);
    } finally {
      resumed.close();
    }
  }, 120_000);

  it("the server's request and idle-socket timeouts do not cut a stream", async () => {
    const base = await serve({ heartbeatMs: 60_000, timeouts: { requestMs: 300, idleSocketMs: 300 } });
    const stream = openEventStream<Change>(`${base}/api/stream`);
    try {
      expect((await stream.ready).statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const head = await burst(1);
      await waitUntil(() => stream.events.some((e) => e.id === head), 5000);
      // An idle keep-alive socket without a stream is closed by the same server.
      const idle = connect(Number(new URL(base).port), '127.0.0.1');
      const ended = new Promise<number>((resolve) => {
        const t0 = Date.now();
        idle.once('close', () => resolve(Date.now() - t0));
      });
      expect(await ended).toBeLessThan(3000);
    } finally {
      stream.close();
    }
  });
});
