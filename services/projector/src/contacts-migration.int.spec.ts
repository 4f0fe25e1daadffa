// The contacts-per-account migration on a database with contacts projected before it: it guesses no
// account, it empties the contacts tables and drops the projection's checkpoint, and the projector then
// rebuilds them from the log (events without an account are the local account's). Down and up again.
import { readFile } from 'node:fs/promises';
import {
  currentSchemaVersion,
  decideSend,
  implicitContactId,
  localAccountId,
  newId,
  type PendingEvent,
} from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { allProjections } from '@hatch/projections';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Projector, waitForCheckpoints } from './index.ts';

const migrationFile = new URL('../../../migrations/1796200000000_contacts-per-account.sql', import.meta.url);
const logger = createLogger('contacts-migration-test', { level: 'silent' });
const metadata = { correlationId: 'c', causationId: null, actor: 'test', schemaVersion: currentSchemaVersion };
const theirs = '+18045551234';
const ada = '5a4b9d1c-0000-4000-8000-00000000000a';

let db: TestDatabase;
let store: PostgresEventStore;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 50 });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
});

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
});

async function projectUntil(head: string) {
  const projector = new Projector({
    pool,
    databaseUrl: db.url,
    store,
    projections: allProjections,
    logger,
    lockRetryMs: 50,
  });
  projector.start();
  try {
    await waitForCheckpoints(pool, allProjections, head);
  } finally {
    await projector.stop();
  }
}

const rows = async (table: string) =>
  (await pool.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows as Record<string, unknown>[];

describe('the contacts-per-account migration', () => {
  it('empties the contacts tables and their checkpoint; the projector rebuilds them from the log', async () => {
    const send = decideSend({
      type: 'SendMessage',
      data: {
        channel: 'sms',
        from: '+12016661234',
        to: theirs,
        body: 'hi',
        attachments: [],
        timestamp: '2024-11-01T14:00:00Z',
        messageId: newId(),
        clientId: localAccountId,
        requestedAt: '2024-11-01T14:00:00.000Z',
      },
    });
    if (!send.ok) throw new Error('bad send');
    await store.append(
      send.streamId,
      send.events.map((e: PendingEvent) => ({ ...e, metadata })),
      'no_stream',
    );
    // A contact as written before accounts: no accountId.
    const { position: head } = await store.append(
      `contact-${ada}`,
      [
        {
          id: newId(),
          type: 'ContactCreated',
          data: { contactId: ada, displayName: 'Ada', addresses: [theirs], createdAt: '2024-11-01T14:01:00.000Z' },
          metadata,
        },
      ],
      'no_stream',
    );
    await projectUntil(head);
    const before = { contacts: await rows('contacts'), addresses: await rows('contact_addresses') };
    expect(before.addresses).toEqual([expect.objectContaining({ account_id: localAccountId, contact_id: ada })]);
    expect(before.contacts.map((c) => c.contact_id).sort()).toEqual(
      [ada, implicitContactId(localAccountId, theirs)].sort(),
    );

    const [up, down] = (await readFile(migrationFile, 'utf8')).split('-- Down Migration') as [string, string];
    const checkpoint = async (name: string) =>
      (await pool.query('SELECT position FROM subscription_checkpoints WHERE subscription_id = $1', [name])).rows;
    for (const sql of [down, up]) {
      await pool.query(sql);
      expect(await rows('contacts')).toEqual([]);
      expect(await rows('contact_addresses')).toEqual([]);
      expect(await checkpoint('projection:contacts')).toEqual([]);
      // Only the contacts projection starts over.
      expect(await checkpoint('projection:conversations')).toHaveLength(1);
    }

    await projectUntil(head);
    expect(await rows('contacts')).toEqual(before.contacts);
    expect(await rows('contact_addresses')).toEqual(before.addresses);
  });
});
