import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PostgresEventStore } from '@hatch/event-store';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatchWithCheckpoints } from '../applier.ts';
import { allProjections } from '../index.ts';
import { appendWorkload, mixedWorkload } from '../workload.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('bin/replay', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;
  let checkpoints = new Map<string, string | null>();

  /** The live projection, driven by hand: read and apply batches until the log is exhausted. */
  async function projectLive() {
    const client = await pool.connect();
    try {
      for (;;) {
        const after = [...checkpoints.values()].reduce<string | null>(
          (a, b) => (a === null || b === null ? null : a < b ? a : b),
          '~',
        );
        const batch = await store.readAll({ after: after === '~' ? null : after, limit: 250 });
        if (batch.length === 0) return;
        ({ checkpoints } = await applyBatchWithCheckpoints(client, {
          projections: allProjections,
          checkpoints,
          recorded: batch,
        }));
      }
    } finally {
      client.release();
    }
  }

  const replay = (...args: string[]) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin', 'replay.ts'), ...args], {
      env: { ...process.env, DATABASE_URL: db.url },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: db.url });
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    for (const p of allProjections) checkpoints.set(p.name, null);
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  it('rebuilds up to a position or a time into an audit schema, and --verify reports drift', async () => {
    const first = await appendWorkload(store, mixedWorkload({ messages: 120, seed: 'audit' }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await appendWorkload(store, mixedWorkload({ messages: 80, from: 120, seed: 'audit' }));
    await projectLive();

    const ok = replay('--verify');
    expect(ok.stderr).toContain('events');
    expect(ok.stdout).toContain('no drift');
    expect(ok.code).toBe(0);

    const byTime = replay('--schema', 'audit_then', '--until-time', between);
    expect(byTime.code).toBe(0);
    const byPosition = replay('--schema', 'audit_pos', '--until-position', first as string, '--projection', 'messages');
    expect(byPosition.code).toBe(0);
    const counts = await pool.query(
      `SELECT (SELECT count(*)::int FROM audit_then.messages WHERE conversation_id IS NOT NULL) AS then_messages,
              (SELECT sum(message_count)::int FROM audit_then.conversations) AS then_counted,
              (SELECT count(*)::int FROM audit_pos.messages WHERE conversation_id IS NOT NULL) AS pos_messages,
              (SELECT count(*)::int FROM messages) AS live_messages,
              to_regclass('audit_pos.conversations') IS NULL AS pos_has_only_messages`,
    );
    expect(counts.rows[0]).toEqual({
      then_messages: 120,
      then_counted: 120,
      pos_messages: 120,
      live_messages: 200,
      pos_has_only_messages: true,
    });

    // tamper with the live read model: a status moved back
    await pool.query(
      `UPDATE messages SET status = 'queued' WHERE status = 'delivered' AND ctid IN (SELECT ctid FROM messages WHERE status = 'delivered' LIMIT 1)`,
    );
    const drift = replay('--verify');
    expect(drift.code).toBe(1);
    expect(drift.stdout).toMatch(/DRIFT messages/);
    expect(drift.stdout).toMatch(/ok +conversations /);
    expect(drift.stdout).toContain('only live:');
    const scratch = await pool.query(
      `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'replay_verify_%'`,
    );
    expect(scratch.rows[0].n).toBe(0);

    expect(replay('--schema', 'public').code).toBe(2);
    expect(replay('--until-time', 'yesterday', '--schema', 'x').code).toBe(2);
  });
});
