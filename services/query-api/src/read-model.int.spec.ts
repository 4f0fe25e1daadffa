// The read pool checks every row against its query's schema: when a migration and a reader disagree, the
// query fails with an error naming the column, instead of handing a cast value to the API.
import { createReadPool, ReadModelRowError, type ReadPool } from '@hatch/projections';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { sql } from 'slonik';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ReadModel } from './read-model.ts';

const conversationId = '0925a42d-f3a9-57e5-8e5f-c4d78d6a0044';

describe('read pool row schemas', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let readPool: ReadPool;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    readPool = await createReadPool(db.url, { maximumPoolSize: 2 });
  });
  afterAll(async () => {
    await readPool?.end();
    await admin?.end();
    await db?.drop();
  });
  beforeEach(async () => {
    await admin.query('TRUNCATE conversations CASCADE');
    await admin.query(
      `INSERT INTO conversations (conversation_id, account_id, participants, channels, message_count, first_message_at,
         last_activity_at, last_message_id, last_message_direction, last_message_channel, last_message_preview,
         updated_position)
       VALUES ($1, 'acme', ARRAY['+12016661234', '+18045551234'], ARRAY['sms'], 2, '2026-11-01T09:00:00.123456Z',
         '2026-11-01T10:00:00.5Z', '6a65e095-a237-5040-a21b-d814959a3c9d', 'outbound', 'sms', 'hi', '1-1')`,
      [conversationId],
    );
  });

  it('reads rows that match: timestamps as Date (API prints milliseconds), int8 as exact strings', async () => {
    const page = await new ReadModel(readPool).listConversations({ account: null, limit: 10 });
    expect(page.items).toEqual([
      expect.objectContaining({
        id: conversationId,
        messageCount: 2,
        firstMessageAt: '2026-11-01T09:00:00.123Z',
        lastActivityAt: '2026-11-01T10:00:00.500Z',
      }),
    ]);
    const big = await readPool.one(sql.type(z.object({ n: z.string() }))`SELECT 9007199254740993::bigint AS n`);
    expect(big.n).toBe('9007199254740993');
  });

  it('fails loudly, naming the column, when a migration changes a column the reader relies on', async () => {
    // A migration widens message_count to bigint: pg now hands the reader a string, not a number.
    await admin.query('ALTER TABLE conversations ALTER COLUMN message_count TYPE bigint');
    try {
      const failure = await new ReadModel(readPool).conversation(conversationId).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ReadModelRowError);
      expect((failure as Error).message).toMatch(
        /^read-model row does not match its schema \(message_count: Invalid input: expected number, received string\) in query: SELECT/,
      );
    } finally {
      await admin.query('ALTER TABLE conversations ALTER COLUMN message_count TYPE integer');
    }
  });

  it('rejects a null where the schema promises a value, and a value outside an enum', async () => {
    await admin.query(`ALTER TABLE conversations DROP CONSTRAINT conversations_last_message_direction_check`);
    await admin.query(`UPDATE conversations SET last_message_direction = 'sideways'`);
    await expect(new ReadModel(readPool).conversation(conversationId)).rejects.toThrow(
      /last_message_direction: Invalid option/,
    );
    await expect(readPool.one(sql.type(z.object({ name: z.string() }))`SELECT NULL::text AS name`)).rejects.toThrow(
      /name: Invalid input: expected string, received null/,
    );
  });

  it('refuses rows from a query that declares no row schema', async () => {
    await expect(readPool.any(sql.unsafe`SELECT conversation_id FROM conversations`)).rejects.toThrow(
      /the query declares no row schema/,
    );
    // Statements without rows need no schema.
    await readPool.query(sql.unsafe`SELECT 1 WHERE false`);
  });
});
