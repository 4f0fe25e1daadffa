// Regression: the log is ordered by the xid8 column, not by its text form. Ordering by the `::text`
// alias put transaction 1000 before 999, so readers skipped events once transaction ids gained a digit.
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from './postgres-event-store.ts';

const event = (id: string) => ({
  id,
  type: 'Tested',
  data: {},
  metadata: { correlationId: 'c', causationId: null, actor: 'test', schemaVersion: 1 },
});

describe('log order across a transaction id with one more digit', () => {
  let database: TestDatabase;
  let client: pg.Client;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    store = new PostgresEventStore({ connectionString: database.url });
  });

  afterAll(async () => {
    await store.close();
    await client.end();
    await database.drop();
  });

  it('reads an event of transaction 10^n after one of a transaction below it', async () => {
    await store.append('order-a', [event('00000000-0000-4000-8000-00000000000a')]);
    const { rows } = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
    const current = Number(rows[0]!.xid);
    const boundary = 10 ** String(current).length;
    if (boundary - current > 200_000) {
      console.log(`skipped: next transaction-id digit boundary is ${boundary - current} transactions away`);
      return;
    }
    // Burn transaction ids up to the boundary (each COMMIT in the block ends one transaction).
    await client.query(
      `DO $$ BEGIN FOR i IN 1..${boundary - current} LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$`,
    );
    await store.append('order-b', [event('00000000-0000-4000-8000-00000000000b')]);
    const all = await store.readAll({ category: 'order' });
    expect(all.map((e) => e.streamId)).toEqual(['order-a', 'order-b']);
    expect(await store.readAll({ after: all[0]!.position })).toHaveLength(1);
    expect(await store.headPosition()).toBe(all[1]!.position);
  });
});
