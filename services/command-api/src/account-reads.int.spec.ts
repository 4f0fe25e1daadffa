// Reads are per account, over real HTTP and PostgreSQL with a running projector: the query routes as the
// command API mounts them (scoped to the key's account) never show one account another's conversations,
// messages, history or live changes, and answer another account's id exactly like an unknown one; the
// standalone operator query API (scope: every account) sees both.
import { randomBytes, randomUUID } from 'node:crypto';
import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createLogger } from '@hatch/platform';
import { allProjections } from '@hatch/projections';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import { createQueryApi, createReadPool, type ReadPool, registerQueryRoutes } from '@hatch/query-api';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { messageDelivered, newMessageEvent } from '@hatch/testing/events';
import { openEventStream, waitUntil } from '@hatch/testing/sse';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';
import { createCommandApi } from './app.ts';
import { defaultCommandApiConfig } from './config.ts';

const silent = createLogger('account-reads-test', { level: 'silent' });
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers as loose JSON; the schemas are checked by the server
type Body = Record<string, any>;
interface Change {
  position: string;
  messageId: string;
  conversationId: string | null;
}

const contact = '+18045550009';
const unknownId = '00000000-0000-4000-8000-0000000000ff';

let db: TestDatabase;
let store: PostgresEventStore;
let pool: pg.Pool;
let readPool: ReadPool;
let projector: Projector;
const closers: (() => Promise<unknown>)[] = [];
let clientBase: string;
let operatorBase: string;
let start: string;

interface Tenant {
  accountId: string;
  apiKey: string;
  number: string;
  conversationId: string;
  messageIds: string[];
}
let a: Tenant;
let b: Tenant;

async function listen(app: { listen(o: { host: string; port: number }): Promise<unknown>; close(): Promise<unknown> }) {
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  closers.push(() => app.close());
  return `http://127.0.0.1:${port}`;
}

const get = async (base: string, path: string, key?: string) => {
  const res = await fetch(`${base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Body };
};
const asClient = (tenant: Tenant, path: string) => get(clientBase, path, tenant.apiKey);

async function createAccount(name: string, number: string) {
  const ops = accountOperations({
    store,
    now: () => new Date(),
    newId: randomUUID,
    random: randomBytes,
    actor: 'operator:test',
  });
  const created = await ops.createAccount(name, [number]);
  if (!created.ok) throw new Error(`account not created: ${JSON.stringify(created)}`);
  return { name, number, ...created.value };
}

/** A send from the account's number to the contact and the contact's answer: one conversation, two messages. */
async function converse(
  { name, number, accountId, apiKey }: Awaited<ReturnType<typeof createAccount>>,
  index: number,
): Promise<Tenant> {
  const post = async (url: string, payload: object, key?: string) => {
    const res = await fetch(`${clientBase}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Body;
  };
  const message = { type: 'sms', attachments: null, timestamp: '2024-11-01T14:00:00Z' };
  // A key issued a moment ago reaches the running API within a second.
  let sent: Body | undefined;
  await waitUntil(async () => {
    const res = await fetch(`${clientBase}/api/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ ...message, from: number, to: contact, body: `hello from ${name}` }),
    });
    if (res.status === 202) sent = (await res.json()) as Body;
    return sent !== undefined;
  }, 5000);
  // The contact writes to this account's number (inbound is routed by `to`).
  const received = await post('/api/webhooks/sms', {
    ...message,
    from: contact,
    to: number,
    body: `answer to ${name}`,
    messaging_provider_id: `reads-${index}`,
  });
  const sentBody = sent as Body;
  return {
    accountId,
    apiKey,
    number,
    conversationId: sentBody.conversationId,
    messageIds: [sentBody.id, received.id],
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 100 });
  pool = new pg.Pool({ connectionString: db.url, max: 5 });
  projector = new Projector({
    pool,
    databaseUrl: db.url,
    store,
    projections: allProjections,
    logger: silent,
    lockRetryMs: 50,
  });
  projector.start();
  readPool = await createReadPool(db.url, { maximumPoolSize: 5 });
  const commandApi = await createCommandApi(
    {
      eventStore: store,
      clock: { now: () => new Date() },
      logger: silent,
      config: defaultCommandApiConfig({ production: true }),
    },
    {
      mountClientRoutes: async (scope) => {
        await registerQueryRoutes(scope, {
          pool: readPool,
          store,
          logger: silent,
          accountScope: (request) => request.accountId,
          heartbeatMs: 200,
        });
      },
    },
  );
  clientBase = await listen(commandApi);
  operatorBase = await listen(
    await createQueryApi({ pool: readPool, store, logger: silent, accountScope: () => null, heartbeatMs: 200 }),
  );
  const acme = await createAccount('Acme', '+12015550301');
  const bolt = await createAccount('Bolt', '+12015550302');
  // Streams resume from here: after the account events, before every message event.
  start = (await store.headPosition()) as string;
  a = await converse(acme, 1);
  b = await converse(bolt, 2);
  // A receipt for B's message (its account comes from the message row) and one for a message never seen.
  await store.append(`message-${b.messageIds[0]}`, [
    newMessageEvent('MessageDelivered', messageDelivered(b.messageIds[0] as string)),
  ]);
  const orphan = randomUUID();
  await store.append(`message-${orphan}`, [newMessageEvent('MessageDelivered', messageDelivered(orphan))]);
  await waitForCheckpoints(pool, allProjections, (await store.headPosition()) as string);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await projector?.stop();
  await store?.close();
  await readPool?.end();
  await pool?.end();
  await db?.drop();
});

/** The answer for `id`, with the id itself taken out (it is echoed in `detail` and `instance`). */
const withoutId = (answer: { status: number; type: string | null; body: Body }, id: string) => ({
  ...answer,
  body: JSON.parse(JSON.stringify(answer.body).replaceAll(id, '{id}')),
});

describe('reads per account', () => {
  it('one contact writing to two accounts makes two conversations, each listed only to its account', async () => {
    expect(a.conversationId).not.toBe(b.conversationId);
    for (const [own, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const all = await asClient(own, '/api/conversations');
      expect(all.status).toBe(200);
      expect(all.body.items.map((c: Body) => c.id)).toEqual([own.conversationId]);
      const byContact = await asClient(own, `/api/conversations?participant=${encodeURIComponent(contact)}`);
      expect(byContact.body.items.map((c: Body) => c.id)).toEqual([own.conversationId]);
      const byOtherNumber = await asClient(own, `/api/conversations?participant=${encodeURIComponent(other.number)}`);
      expect(byOtherNumber.body.items).toEqual([]);
      const sms = await asClient(own, '/api/conversations?channel=sms&limit=1');
      expect(sms.body).toMatchObject({ items: [{ id: own.conversationId }], nextCursor: null });

      expect((await asClient(own, `/api/conversations/${own.conversationId}`)).body.participants).toEqual(
        [contact, own.number].sort(),
      );
      const messages = await asClient(own, `/api/conversations/${own.conversationId}/messages`);
      expect(messages.body.items.map((m: Body) => m.id).sort()).toEqual([...own.messageIds].sort());
      const detail = await asClient(own, `/api/messages/${own.messageIds[0]}`);
      expect(detail.status).toBe(200);
      expect(detail.body.history.length).toBeGreaterThan(0);
    }
    // Without a key (production mode) nothing is read at all.
    expect((await get(clientBase, '/api/conversations')).status).toBe(401);
  });

  it("answers another account's conversation or message exactly like an unknown id (404)", async () => {
    const paths = (conversationId: string, messageId: string) => [
      `/api/conversations/${conversationId}`,
      `/api/conversations/${conversationId}/messages`,
      `/api/conversations/${conversationId}/stream`,
      `/api/messages/${messageId}`,
    ];
    const theirs = paths(b.conversationId, b.messageIds[0] as string);
    const unknown = paths(unknownId, unknownId);
    for (const [i, path] of theirs.entries()) {
      const other = await asClient(a, path);
      expect(other.status).toBe(404);
      expect(other.type).toContain('application/problem+json');
      const none = await asClient(a, unknown[i] as string);
      const id = path.includes('/messages/') ? (b.messageIds[0] as string) : b.conversationId;
      expect(withoutId(other, id)).toEqual(withoutId(none, unknownId));
    }
    // B's inbound message too, and B reads both of its own.
    expect((await asClient(a, `/api/messages/${b.messageIds[1]}`)).status).toBe(404);
    for (const id of b.messageIds) expect((await asClient(b, `/api/messages/${id}`)).status).toBe(200);
  });

  it('the operator query API reads every account', async () => {
    const all = await get(operatorBase, '/api/conversations');
    expect(all.body.items.map((c: Body) => c.id).sort()).toEqual([a.conversationId, b.conversationId].sort());
    const byContact = await get(operatorBase, `/api/conversations?participant=${encodeURIComponent(contact)}`);
    expect(byContact.body.items).toHaveLength(2);
    for (const t of [a, b]) {
      expect((await get(operatorBase, `/api/conversations/${t.conversationId}`)).status).toBe(200);
      expect((await get(operatorBase, `/api/conversations/${t.conversationId}/messages`)).body.items).toHaveLength(2);
      expect((await get(operatorBase, `/api/messages/${t.messageIds[0]}`)).status).toBe(200);
    }
  });

  it("a live stream carries only its account's changes; the operator's carries every one", async () => {
    const head = (await store.headPosition()) as string;
    const resume = `?lastEventId=${start}`;
    const messageEvents = (await store.readAll({ after: start, limit: 1000 })).filter(
      (e) => e.streamId.startsWith('message-') && e.position <= head,
    );
    const positionsOf = (ids: readonly string[]) =>
      messageEvents.filter((e) => ids.some((id) => e.streamId === `message-${id}`)).map((e) => e.position);
    const streams = {
      a: openEventStream<Change>(`${clientBase}/api/stream${resume}`, { authorization: `Bearer ${a.apiKey}` }),
      b: openEventStream<Change>(`${clientBase}/api/stream${resume}`, { authorization: `Bearer ${b.apiKey}` }),
      aConversation: openEventStream<Change>(`${clientBase}/api/conversations/${a.conversationId}/stream${resume}`, {
        authorization: `Bearer ${a.apiKey}`,
      }),
      operator: openEventStream<Change>(`${operatorBase}/api/stream${resume}`),
    };
    try {
      for (const s of Object.values(streams)) expect((await s.ready).statusCode).toBe(200);
      // The whole backlog is one batch, written at once: once a stream's last own change arrived (and a
      // heartbeat after it), it has sent everything it would up to `head`.
      const lastOf = (ids: readonly string[]) => positionsOf(ids).at(-1) as string;
      const last = { a: lastOf(a.messageIds), b: lastOf(b.messageIds), aConversation: lastOf(a.messageIds) };
      await waitUntil(
        () =>
          Object.entries(last).every(([k, p]) => streams[k as keyof typeof last].events.some((e) => e.id === p)) &&
          streams.operator.events.some((e) => e.id === head),
        10_000,
      );
      const beats = Object.values(streams).map((s) => s.comments.length);
      await waitUntil(() => Object.values(streams).every((s, i) => s.comments.length > (beats[i] as number)), 5000);
      const ids = (s: { events: { id: string }[] }) => s.events.map((e) => e.id).filter((p) => p <= head);
      expect(ids(streams.a)).toEqual(positionsOf(a.messageIds));
      expect(ids(streams.aConversation)).toEqual(positionsOf(a.messageIds));
      // B's includes the receipt appended straight to the log (its account comes from the message row).
      expect(ids(streams.b)).toEqual(positionsOf(b.messageIds));
      expect(positionsOf(b.messageIds)).toHaveLength(3);
      // The operator's also carries the receipt for a message nobody has seen.
      expect(ids(streams.operator)).toEqual(messageEvents.map((e) => e.position));
      expect(messageEvents.length).toBe(6);
      for (const e of streams.a.events) expect(e.data.conversationId).toBe(a.conversationId);
    } finally {
      for (const s of Object.values(streams)) s.close();
    }
  });
});
