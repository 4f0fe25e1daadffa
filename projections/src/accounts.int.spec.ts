import {
  type AccountDecision,
  accountEventSchemaVersion,
  accountStateFrom,
  accountStreamId,
  decideAddSender,
  decideCreateAccount,
  decideIssueApiKey,
  decideRemoveSender,
  decideRevokeApiKey,
  generateApiKey,
} from '@hatch/domain';
import { createEventStore, type EventStore } from '@hatch/event-store';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsProjection } from './accounts.ts';
import { applyBatchWithCheckpoints } from './applier.ts';
import { verifyProjections } from './audit/verify.ts';
import { createReadPool, type ReadPool } from './read-pool.ts';

const acme = '0b6f3c2e-6d1a-4c1e-9f7a-2b3c4d5e6f70';
const globex = '9d8c7b6a-5f4e-4d3c-8b2a-1a2b3c4d5e6f';
const keyId = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
let tick = 0;
const at = () => new Date(Date.UTC(2026, 10, 25, 10, 0, tick++)).toISOString();
const counter = (n: number) => (size: number) => Uint8Array.from({ length: size }, (_, i) => (n + i) % 62);

describe('accounts projection', () => {
  let db: TestDatabase;
  let store: EventStore;
  let pool: pg.Pool;
  let readPool: ReadPool;
  let checkpoints = new Map<string, string | null>([['accounts', null]]);

  /** Decides on the account's current stream and appends at the version decided on. */
  async function decide<E extends { id: string; type: string; data: unknown }>(
    accountId: string,
    decision: (state: ReturnType<typeof accountStateFrom>) => AccountDecision<E>,
  ) {
    const result = decision(accountStateFrom(await store.readStream(accountStreamId(accountId))));
    if (!result.ok) throw new Error(JSON.stringify(result));
    const metadata = {
      correlationId: 'test',
      causationId: null,
      actor: 'test',
      schemaVersion: accountEventSchemaVersion,
    };
    await store.append(
      result.streamId,
      result.events.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata })),
      result.expectedVersion === -1 ? 'no_stream' : result.expectedVersion,
    );
  }

  async function project() {
    const client = await pool.connect();
    try {
      const recorded = await store.readAll({ after: checkpoints.get('accounts') ?? null });
      ({ checkpoints } = await applyBatchWithCheckpoints(client, {
        projections: [accountsProjection],
        checkpoints,
        recorded,
      }));
    } finally {
      client.release();
    }
  }

  const rows = async (sql: string) => (await pool.query(sql)).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createEventStore({ EVENT_STORE: 'postgres', DATABASE_URL: db.url });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    readPool = await createReadPool(db.url, { maximumPoolSize: 2 });
  });
  afterAll(async () => {
    await store?.close();
    await readPool?.end();
    await pool?.end();
    await db?.drop();
  });

  it('builds accounts, owned senders and key hashes across batches, and a rebuild matches it', async () => {
    const key = generateApiKey(counter(0));
    await decide(acme, (s) =>
      decideCreateAccount({ type: 'CreateAccount', data: { accountId: acme, name: 'Acme', createdAt: at() } }, s),
    );
    await decide(acme, (s) =>
      decideAddSender({ type: 'AddSender', data: { accountId: acme, sender: '+1 201 666 1234', addedAt: at() } }, s),
    );
    await decide(acme, (s) =>
      decideAddSender({ type: 'AddSender', data: { accountId: acme, sender: '@Acme.com', addedAt: at() } }, s),
    );
    await decide(acme, (s) =>
      decideIssueApiKey(
        {
          type: 'IssueApiKey',
          data: { accountId: acme, keyId, name: 'ci', keyHash: key.keyHash, prefix: key.prefix, issuedAt: at() },
        },
        s,
      ),
    );
    await project();

    expect(await rows('SELECT account_id, name FROM accounts')).toEqual([{ account_id: acme, name: 'Acme' }]);
    expect(await rows('SELECT sender, account_id, kind FROM account_senders ORDER BY sender')).toEqual([
      { sender: '+12016661234', account_id: acme, kind: 'phone' },
      { sender: '@acme.com', account_id: acme, kind: 'email_domain' },
    ]);
    // Authentication looks the presented key's hash up; the key itself is nowhere in the database.
    expect(
      await rows(`SELECT key_id, account_id, prefix, revoked_at FROM api_keys WHERE key_hash = '${key.keyHash}'`),
    ).toEqual([{ key_id: keyId, account_id: acme, prefix: key.prefix, revoked_at: null }]);
    const leaked = await rows(`SELECT count(*)::int AS n FROM events WHERE data::text LIKE '%${key.key.slice(8)}%'`);
    expect(leaked).toEqual([{ n: 0 }]);

    // A later batch: revoke the key and hand the number over to another account.
    const revokedAt = at();
    await decide(acme, (s) =>
      decideRevokeApiKey({ type: 'RevokeApiKey', data: { accountId: acme, keyId, revokedAt } }, s),
    );
    await decide(acme, (s) =>
      decideRemoveSender(
        { type: 'RemoveSender', data: { accountId: acme, sender: '+12016661234', removedAt: at() } },
        s,
      ),
    );
    await decide(globex, (s) =>
      decideCreateAccount({ type: 'CreateAccount', data: { accountId: globex, name: 'Globex', createdAt: at() } }, s),
    );
    await decide(globex, (s) =>
      decideAddSender({ type: 'AddSender', data: { accountId: globex, sender: '+12016661234', addedAt: at() } }, s),
    );
    await project();

    expect(await rows('SELECT sender, account_id FROM account_senders ORDER BY sender')).toEqual([
      { sender: '+12016661234', account_id: globex },
      { sender: '@acme.com', account_id: acme },
    ]);
    const [revoked] = await rows(`SELECT revoked_at FROM api_keys WHERE key_id = '${keyId}'`);
    expect((revoked.revoked_at as Date).toISOString()).toBe(revokedAt);

    const client = await pool.connect();
    try {
      const [result] = await verifyProjections({
        store,
        db: client,
        readPool,
        projections: [accountsProjection],
        scratchSchema: 'verify_accounts',
      });
      expect(result?.tables.map((t) => [t.table, t.live.rows, t.equal])).toEqual([
        ['accounts', 2, true],
        ['account_senders', 2, true],
        ['api_keys', 1, true],
      ]);
      expect(result?.drift).toBe(false);
      // And it can fail: a row the log does not explain is drift.
      await client.query(`UPDATE api_keys SET revoked_at = NULL`);
      const [drifted] = await verifyProjections({
        store,
        db: client,
        readPool,
        projections: [accountsProjection],
        scratchSchema: 'verify_accounts',
      });
      expect(drifted?.drift).toBe(true);
    } finally {
      client.release();
    }
  });
});
