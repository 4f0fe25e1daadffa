// The dispatch backlog gauges over real PostgreSQL: a due, unclaimed send shows up (also one whose lease
// ran out); a claimed one, and one not yet due, do not. Also the ahead-of-time claim and the release of
// unstarted leases the claim loop relies on.
import { randomUUID } from 'node:crypto';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backlogMetricNames, startBacklogGauges } from './backlog-gauges.ts';
import { claimDueMessages, dueBacklog, releaseUnstartedLeases } from './schedule-store.ts';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});
beforeEach(async () => {
  await pool.query('TRUNCATE dispatch_schedule');
});

const schedule = async (dueAtMs: number, leaseUntilMs: number | null = null) => {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO dispatch_schedule (message_id, stream_version, due_at, lease_until)
     VALUES ($1, 0, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0))`,
    [id, dueAtMs, leaseUntilMs],
  );
  return id;
};

const gauge = async (registry: Registry, name: string) => {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value;
};

describe('dispatch backlog', () => {
  it('counts due unclaimed sends and the oldest one’s age; claimed and future ones are left out', async () => {
    const now = Date.now();
    const oldest = await schedule(now - 5000);
    await schedule(now - 3000);
    await schedule(now + 60_000); // not due yet
    await schedule(now - 9000, now + 20_000); // claimed: its lease runs
    expect(await dueBacklog(pool, now)).toEqual({ due: 2, oldestDueSeconds: 5 });

    // Claiming the oldest takes it out of the backlog.
    expect((await claimDueMessages(pool, now, 30_000, 1)).map((c) => c.messageId)).toEqual([oldest]);
    expect(await dueBacklog(pool, now)).toEqual({ due: 1, oldestDueSeconds: 3 });

    // A lease that ran out (its dispatcher died) is unclaimed again.
    await schedule(now - 7000, now - 1000);
    expect(await dueBacklog(pool, now)).toEqual({ due: 2, oldestDueSeconds: 7 });
  });

  it('reports zero when nothing is waiting', async () => {
    await schedule(Date.now() + 60_000);
    expect(await dueBacklog(pool, Date.now())).toEqual({ due: 0, oldestDueSeconds: 0 });
  });

  it('exports the backlog as gauges, sampled on a timer', async () => {
    const registry = new Registry();
    const now = Date.now();
    await schedule(now - 4000);
    const gauges = await startBacklogGauges({
      pool,
      registry,
      intervalMs: 100,
      log: createLogger('test'),
      now: () => now,
    });
    try {
      expect(await gauge(registry, backlogMetricNames.due)).toBe(1);
      expect(await gauge(registry, backlogMetricNames.oldestDueSeconds)).toBe(4);
      await claimDueMessages(pool, now, 30_000, 10);
      await schedule(now - 2000);
      await schedule(now - 1000);
      await new Promise((r) => setTimeout(r, 300));
      expect(await gauge(registry, backlogMetricNames.due)).toBe(2);
      expect(await gauge(registry, backlogMetricNames.oldestDueSeconds)).toBe(2);
      expect(await registry.metrics()).toContain(`${backlogMetricNames.due} 2`);
    } finally {
      gauges.stop();
    }
  });
});

describe('claims ahead of the due time', () => {
  it('claims sends due within the window, oldest first, and gives back unstarted leases by value', async () => {
    const now = Date.now();
    const later = await schedule(now + 800);
    const soon = await schedule(now + 300);
    const farOff = await schedule(now + 5000);
    expect(await claimDueMessages(pool, now, 30_000, 10)).toEqual([]); // nothing due yet
    const ahead = await claimDueMessages(pool, now, 30_000, 10, { aheadMs: 1000 });
    expect(ahead.map((c) => c.messageId)).toEqual([soon, later]);
    expect(Math.abs((ahead[0]?.dueAtMs ?? 0) - (now + 300))).toBeLessThan(1);
    // Claimed ahead: another dispatcher does not get them.
    expect(await claimDueMessages(pool, now, 30_000, 10, { aheadMs: 1000 })).toEqual([]);

    // Only the value this process wrote is given back: `later` was re-leased meanwhile (another owner).
    await pool.query(`UPDATE dispatch_schedule SET lease_until = now() + interval '1 hour' WHERE message_id = $1`, [
      later,
    ]);
    await releaseUnstartedLeases(pool, [
      { messageId: soon, leasedUntil: now + 30_000 },
      { messageId: later, leasedUntil: now + 30_000 },
    ]);
    const { rows } = await pool.query<{ message_id: string; leased: boolean }>(
      'SELECT message_id, lease_until IS NOT NULL AS leased FROM dispatch_schedule',
    );
    expect(Object.fromEntries(rows.map((r) => [r.message_id, r.leased]))).toEqual({
      [soon]: false,
      [later]: true,
      [farOff]: false,
    });
  });
});
