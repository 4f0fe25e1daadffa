// The migration that gives conversations and messages their account: read rows projected before it get
// their account from the log (the migration empties the two projections and drops their checkpoints; the
// projector rebuilds them), and an audit rebuild of the new tables equals the live ones.
import { localAccountId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { migrate, migrationFiles } from '@hatch/migrate';
import { createLogger } from '@hatch/platform';
import { allProjections, compareSchemas, createAuditTables, createReadPool, rebuildInto } from '@hatch/projections';
import { appendWorkload, mixedWorkload } from '@hatch/projections/workload';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { messageDelivered, messageReceived, messageRequested, newMessageEvent } from '@hatch/testing/events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Projector, waitForCheckpoints } from './projector.ts';

const logger = createLogger('account-reads-migration-test', { level: 'silent' });
const migration = '1796169924955_account-reads';
const acme = '7d1c1f0e-5b4a-4c1e-9a35-2f0f6d1e0a01';

describe('account-reads migration', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 100 });
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  const project = async () => {
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
      await waitForCheckpoints(pool, allProjections, (await store.headPosition()) as string);
    } finally {
      await projector.stop();
    }
  };

  it('rebuilds the rows projected before it with their accounts from the log', async () => {
    // v1 events (no account: the local account's) and v2 events of another account, with a receipt.
    await appendWorkload(store, mixedWorkload({ messages: 40, contacts: 5, seed: 'before' }));
    const requested = messageRequested({ accountId: acme, clientId: acme });
    const received = messageReceived({ accountId: acme });
    await store.append(`message-${requested.messageId}`, [
      newMessageEvent('MessageRequested', requested),
      newMessageEvent('MessageDelivered', messageDelivered(requested.messageId)),
    ]);
    await store.append(`message-${received.messageId}`, [newMessageEvent('MessageReceived', received)]);
    await project();
    // The database as it was before the migration (and every later one), with the rows projected then.
    const files = migrationFiles();
    const undone = await migrate({
      databaseUrl: db.url,
      direction: 'down',
      count: files.length - files.indexOf(migration),
    });
    expect(undone.at(-1)).toBe(migration);
    const before = await pool.query(
      `SELECT (SELECT count(*)::int FROM messages) AS messages,
              (SELECT count(*)::int FROM information_schema.columns WHERE column_name = 'account_id'
                 AND table_name IN ('messages', 'conversations')) AS columns`,
    );
    expect(before.rows[0]).toEqual({ messages: 42, columns: 0 });

    await migrate({ databaseUrl: db.url });
    const emptied = await pool.query(
      `SELECT (SELECT count(*)::int FROM conversations) AS conversations, (SELECT count(*)::int FROM messages) AS messages,
              (SELECT count(*)::int FROM message_events) AS history,
              (SELECT array_agg(subscription_id ORDER BY subscription_id) FROM subscription_checkpoints
                WHERE subscription_id IN ('projection:conversations', 'projection:messages')) AS checkpoints`,
    );
    // Only the two projections that gained a column start over; the history keeps its rows.
    expect(emptied.rows[0]).toMatchObject({ conversations: 0, messages: 0, checkpoints: null });
    expect(emptied.rows[0].history).toBeGreaterThan(0);

    await project();
    const messages = await pool.query(
      `SELECT account_id, count(*)::int AS n FROM messages WHERE conversation_id IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    expect(messages.rows).toEqual([
      { account_id: localAccountId, n: 40 },
      { account_id: acme, n: 2 },
    ]);
    const conversations = await pool.query(
      'SELECT account_id, count(*)::int AS n FROM conversations GROUP BY 1 ORDER BY 1',
    );
    expect(conversations.rows.map((r) => r.account_id)).toEqual([localAccountId, acme]);

    // `bin/replay` copies the table definitions: a rebuild into an audit schema equals the live tables.
    const readPool = await createReadPool(db.url, { maximumPoolSize: 2 });
    const client = await pool.connect();
    try {
      await createAuditTables(client, allProjections, 'audit_accounts');
      await rebuildInto({ store, db: client, projections: allProjections, schema: 'audit_accounts' });
      const diff = await compareSchemas(readPool, allProjections, 'public', 'audit_accounts');
      expect(diff.filter((t) => !t.equal)).toEqual([]);
    } finally {
      client.release();
      await readPool.end();
    }
  });
});
