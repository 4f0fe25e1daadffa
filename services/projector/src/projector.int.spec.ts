import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { type ServiceProcess, serviceEntry, startServiceProcess } from '@hatch/infra/service-process';
import { createLogger } from '@hatch/platform';
import {
  allProjections,
  compareSchemas,
  createAuditTables,
  createReadPool,
  type ReadPool,
  rebuildInto,
} from '@hatch/projections';
import { appendWorkload, mixedWorkload } from '@hatch/projections/workload';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Projector, waitForCheckpoints } from './projector.ts';

const logger = createLogger('projector-test', { level: 'silent' });

describe('projector', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;
  let readPool: ReadPool;
  const projectors: Projector[] = [];
  const children: ServiceProcess[] = [];

  const newProjector = (extra: Partial<ConstructorParameters<typeof Projector>[0]> = {}) => {
    const projector = new Projector({
      pool,
      databaseUrl: db.url,
      store,
      projections: allProjections,
      logger,
      batchSize: 100,
      lockRetryMs: 50,
      ...extra,
    });
    projectors.push(projector);
    return projector;
  };

  /** Rebuilds every projection from the log into a scratch schema and compares it with the live tables. */
  async function rebuildAndCompare(schema: string) {
    const client = await pool.connect();
    try {
      await createAuditTables(client, allProjections, schema);
      await rebuildInto({ store, db: client, projections: allProjections, schema, batchSize: 333 });
      return await compareSchemas(readPool, allProjections, 'public', schema);
    } finally {
      client.release();
    }
  }

  async function resetReadModel() {
    await pool.query(
      `TRUNCATE message_events, messages, conversation_participants, conversations, contacts, contact_addresses, contact_consents;
       DELETE FROM subscription_checkpoints WHERE subscription_id LIKE 'projection:%'`,
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 200 });
    pool = new pg.Pool({ connectionString: db.url, max: 8 });
    readPool = await createReadPool(db.url, { maximumPoolSize: 2 });
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop('SIGKILL')));
    await Promise.all(projectors.map((p) => p.stop()));
    await store?.close();
    await readPool?.end();
    await pool?.end();
    await db?.drop();
  });

  it('projects a mixed workload; out-of-order and duplicate receipts never move a status back; rebuild equals live', async () => {
    const head = await appendWorkload(store, mixedWorkload({ messages: 300, seed: 'mixed' }));
    const projector = newProjector();
    projector.start();
    await waitForCheckpoints(pool, allProjections, head as string);

    const statuses = await pool.query<{ kind: number; status: string; n: number }>(
      `SELECT (substring(body FROM 'message (\\d+)')::int % 10) AS kind, status, count(*)::int AS n
         FROM messages GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const byKind = Object.fromEntries(statuses.rows.map((r) => [`${r.kind}:${r.status}`, r.n]));
    // 30 messages of each kind (see messageLifecycle)
    expect(byKind).toMatchObject({
      '0:delivered': 30,
      '3:delivered': 30,
      '4:received': 30,
      '5:delivered': 30, // retried, then delivered, then a duplicate receipt
      '6:failed': 30,
      '7:delivered': 30, // receipt before the message: the message fills in, status stays
      '8:delivered': 30, // a late undelivered does not move delivered back
      '9:undelivered': 30,
    });
    const retried = await pool.query(
      `SELECT attempts, provider, delivered_at FROM messages WHERE body LIKE 'message 5 %'`,
    );
    expect(retried.rows[0]).toMatchObject({ attempts: 2, provider: 'messaging-provider-backup' });
    // the history keeps every event, including the duplicate receipt, in log order
    const history = await pool.query<{ status: string }>(
      `SELECT e.status FROM message_events e JOIN messages m USING (message_id)
        WHERE m.body LIKE 'message 5 %' ORDER BY e.position`,
    );
    expect(history.rows.map((r) => r.status)).toEqual(['queued', 'retry_scheduled', 'sent', 'delivered', 'delivered']);
    const eventsInLog = await pool.query('SELECT count(*)::int AS n FROM events');
    const historyRows = await pool.query('SELECT count(*)::int AS n FROM message_events');
    expect(historyRows.rows[0].n).toBe(eventsInLog.rows[0].n);
    const conversations = await pool.query<{ total: number }>(
      'SELECT sum(message_count)::int AS total FROM conversations',
    );
    expect(conversations.rows[0]?.total).toBe(300);

    const comparison = await rebuildAndCompare('audit_mixed');
    expect(comparison.filter((t) => !t.equal)).toEqual([]);
    expect(comparison.find((t) => t.table === 'messages')?.live.rows).toBe(300);
    await projector.stop();
  });

  it('applies each event exactly once across failed batches and restarts', async () => {
    await resetReadModel();
    const head = await store.headPosition();
    let batches = 0;
    let crashes = 0;
    // Crash inside the transaction of every 4th batch (rows written, checkpoint not yet): it rolls back
    // and the batch is applied again from the checkpoint.
    const first = newProjector({
      batchSize: 37,
      parallel: 'never',
      beforeCheckpoint: () => {
        batches++;
        if (batches % 4 === 0) {
          crashes++;
          throw new Error('crash between rows and checkpoint');
        }
      },
    });
    first.start();
    await waitUntil(() => first.batchesApplied >= 6);
    await first.stop();
    const partial = await pool.query('SELECT count(*)::int AS n FROM message_events');
    expect(crashes).toBeGreaterThan(0);
    expect(partial.rows[0].n).toBeGreaterThan(0);

    // the restart runs in parallel mode (one transaction per projection): the same rows must come out
    const second = newProjector({ batchSize: 53, parallel: 'always' });
    second.start();
    await waitForCheckpoints(pool, allProjections, head as string);
    await second.stop();
    const comparison = await rebuildAndCompare('audit_crash');
    expect(comparison.filter((t) => !t.equal)).toEqual([]);
  });

  it('survives the projector process being killed mid-run', async () => {
    await resetReadModel();
    const head = await appendWorkload(store, mixedWorkload({ messages: 200, from: 300, seed: 'mixed' }));
    const start = async () => {
      const port = await freePort();
      const child = startServiceProcess({
        entry: serviceEntry('projector'),
        env: {
          DATABASE_URL: db.url,
          PROJECTOR_PORT: String(port),
          PROJECTOR_BATCH_SIZE: '7',
          PROJECTOR_LOCK_RETRY_MS: '50',
          LOG_LEVEL: 'warn',
        },
      });
      children.push(child);
      return { child, port };
    };
    const { child } = await start();
    await waitUntil(async () => {
      const { rowCount } = await pool.query(
        `SELECT 1 FROM subscription_checkpoints WHERE subscription_id = 'projection:messages'`,
      );
      return (rowCount ?? 0) > 0;
    }, 20_000);
    await child.stop('SIGKILL');
    const { rows } = await pool.query<{ position: string }>(
      `SELECT position FROM subscription_checkpoints WHERE subscription_id = 'projection:messages'`,
    );
    expect((rows[0]?.position ?? '') < (head as string)).toBe(true);

    const restarted = await start();
    await waitForCheckpoints(pool, allProjections, head as string, 30_000);
    const metrics = await fetch(`http://127.0.0.1:${restarted.port}/metrics`).then((r) => r.text());
    expect(metrics).toContain('hatch_projection_lag_seconds');
    expect(metrics).toMatch(/hatch_projection_owner\{[^}]*\} 1/);
    await restarted.child.stop('SIGTERM');
    const comparison = await rebuildAndCompare('audit_killed');
    expect(comparison.filter((t) => !t.equal)).toEqual([]);
  });

  it('lets only one of two projectors apply; the second takes over when the first stops', async () => {
    await resetReadModel();
    const a = newProjector();
    const b = newProjector();
    a.start();
    b.start();
    const head1 = await appendWorkload(store, mixedWorkload({ messages: 50, from: 500, seed: 'mixed' }));
    await waitForCheckpoints(pool, allProjections, head1 as string);
    expect([a.isOwner, b.isOwner].filter(Boolean)).toHaveLength(1);
    const [owner, standby] = a.isOwner ? [a, b] : [b, a];
    expect(owner.batchesApplied).toBeGreaterThan(0);
    expect(standby.batchesApplied).toBe(0);

    await owner.stop();
    const head2 = await appendWorkload(store, mixedWorkload({ messages: 50, from: 550, seed: 'mixed' }));
    await waitForCheckpoints(pool, allProjections, head2 as string);
    expect(standby.isOwner).toBe(true);
    expect(standby.batchesApplied).toBeGreaterThan(0);
    await standby.stop();
    const comparison = await rebuildAndCompare('audit_two');
    expect(comparison.filter((t) => !t.equal)).toEqual([]);
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
