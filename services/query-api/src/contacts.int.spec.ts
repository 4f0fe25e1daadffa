// Contacts and opt-out state on the read side: every counterpart resolves to a contact, consent changes
// show per channel and sender, listings carry contact names, and a rebuild reproduces it all exactly.
import {
  currentSchemaVersion,
  type DecidedEvent,
  decideEmailUnsubscribe,
  decideInboundKeyword,
  decideReceive,
  decideSend,
  implicitContactId,
  localAccountId,
  newId,
} from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createLogger } from '@hatch/platform';
import {
  allProjections,
  compareSchemas,
  createAuditTables,
  createReadPool,
  type ReadPool,
  rebuildInto,
} from '@hatch/projections';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryApi } from './app.ts';

const logger = createLogger('contacts-test', { level: 'silent' });
// biome-ignore lint/suspicious/noExplicitAny: answers are read as loose JSON; the server checks its schemas
type Body = Record<string, any>;

const ours = '+12016661234';
const theirs = '+18045551234';
const at = (s: number) => new Date(Date.UTC(2024, 10, 1, 14, 0, s)).toISOString();
const metadata = { correlationId: 'c', causationId: null, actor: 'test', schemaVersion: currentSchemaVersion };

describe('contacts read side', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;
  let readPool: ReadPool;
  let projector: Projector;
  let app: Awaited<ReturnType<typeof createQueryApi>>;
  let base: string;
  let head = '';

  const append = async (streamId: string, events: { id: string; type: string; data: unknown }[]) => {
    const result = await store.append(
      streamId,
      events.map((e) => ({ ...e, metadata })),
      'any',
    );
    head = result.position;
  };
  const sent = async (to: string, channel: 'sms' | 'email', s: number, from = ours) => {
    const d = decideSend({
      type: 'SendMessage',
      data: {
        channel,
        from,
        to,
        body: 'hi',
        attachments: [],
        timestamp: at(s),
        messageId: newId(),
        clientId: localAccountId,
        requestedAt: at(s),
      },
    });
    if (!d.ok) throw new Error('bad send');
    await append(d.streamId, d.events as DecidedEvent<'MessageRequested'>[]);
  };
  const get = async (path: string) => {
    await waitForCheckpoints(pool, allProjections, head);
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as Body };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 100 });
    pool = new pg.Pool({ connectionString: db.url, max: 5 });
    projector = new Projector({
      pool,
      databaseUrl: db.url,
      store,
      projections: allProjections,
      logger,
      lockRetryMs: 50,
    });
    projector.start();
    readPool = await createReadPool(db.url, { maximumPoolSize: 5 });
    app = await createQueryApi({
      pool: readPool,
      store,
      logger,
      accountScope: () => null,
      readYourWritesTimeoutMs: 2000,
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

  it('resolves counterparts to contacts and shows opt-out state per channel and sender', async () => {
    await sent(theirs, 'sms', 1);
    const received = decideReceive({
      type: 'ReceiveMessage',
      data: {
        channel: 'sms',
        from: theirs,
        to: ours,
        body: 'STOP',
        attachments: [],
        timestamp: at(2),
        accountId: localAccountId,
        provider: 'messaging-provider',
        providerMessageId: 'p-1',
        receivedAt: at(2),
      },
    });
    if (!received.ok) throw new Error('bad receive');
    await append(received.streamId, received.events);
    const keyword = decideInboundKeyword(received.events[0]!.data);
    await append(keyword!.change!.streamId, [keyword!.change!.event]);
    await sent('reader@example.com', 'email', 3, 'news@usehatchapp.com');
    const unsubscribe = decideEmailUnsubscribe({
      accountId: localAccountId,
      sender: 'news@usehatchapp.com',
      address: 'reader@example.com',
      provider: 'xillio',
      providerEventId: 'u-1',
      changedAt: at(4),
    });
    await append(unsubscribe.streamId, [unsubscribe.event]);

    const contact = await get(`/api/contacts/${implicitContactId(localAccountId, theirs)}`);
    expect(contact.status).toBe(200);
    expect(contact.body).toMatchObject({
      id: implicitContactId(localAccountId, theirs),
      origin: 'implicit',
      mergedInto: null,
      addresses: [{ address: theirs, kind: 'phone' }],
      consent: [
        { address: theirs, sender: ours, channel: 'sms', status: 'opted_out', source: 'keyword', keyword: 'STOP' },
      ],
    });
    const reader = await get(`/api/contacts/${implicitContactId(localAccountId, 'reader@example.com')}`);
    expect(reader.body.consent).toEqual([
      expect.objectContaining({
        sender: 'news@usehatchapp.com',
        channel: 'email',
        status: 'opted_out',
        source: 'unsubscribe',
      }),
    ]);
    // Our own number is not a contact.
    expect((await get(`/api/contacts/${implicitContactId(localAccountId, ours)}`)).status).toBe(404);

    const found = await get(`/api/contacts?q=${encodeURIComponent('(804) 555-1234')}`);
    expect(found.body.items.map((c: Body) => c.id)).toEqual([implicitContactId(localAccountId, theirs)]);
    const listing = await get('/api/conversations');
    const withTheirs = listing.body.items.find((c: Body) => c.participants.includes(theirs));
    expect(withTheirs.contacts).toEqual([
      { address: theirs, contactId: implicitContactId(localAccountId, theirs), displayName: null },
    ]);
    const conversations = await get(`/api/contacts/${implicitContactId(localAccountId, theirs)}/conversations`);
    expect(conversations.body.items).toHaveLength(1);
  });

  it('rebuilding the projections reproduces contacts and opt-outs exactly', async () => {
    await waitForCheckpoints(pool, allProjections, head);
    const client = await pool.connect();
    try {
      await createAuditTables(client, allProjections, 'audit_contacts');
      await rebuildInto({ store, db: client, projections: allProjections, schema: 'audit_contacts', batchSize: 2 });
      const tables = await compareSchemas(readPool, allProjections, 'public', 'audit_contacts');
      expect(tables.filter((t) => !t.equal)).toEqual([]);
      const consent = tables.find((t) => t.table === 'contact_consents');
      expect(consent?.live.rows).toBe(2);
    } finally {
      client.release();
    }
  });
});
