// The dispatch_schedule table: applied from the log with the checkpoint in one transaction, and
// claimed by workers with a lease (SKIP LOCKED, so several dispatchers share it without blocking).
import type { ScheduleChange } from '@hatch/dispatch';
import type pg from 'pg';

export async function applyScheduleChanges(client: pg.PoolClient, changes: ScheduleChange[]): Promise<void> {
  const due = changes.filter((c) => c.kind === 'due');
  const done = changes.filter((c) => c.kind === 'done');
  if (due.length > 0) {
    await client.query(
      `INSERT INTO dispatch_schedule (message_id, stream_version, due_at, lease_until)
       SELECT id, v, to_timestamp(at / 1000.0), NULL
         FROM unnest($1::uuid[], $2::bigint[], $3::float8[]) AS t(id, v, at)
       ON CONFLICT (message_id) DO UPDATE
         SET stream_version = EXCLUDED.stream_version, due_at = EXCLUDED.due_at, lease_until = NULL
         WHERE dispatch_schedule.stream_version < EXCLUDED.stream_version`,
      [due.map((c) => c.messageId), due.map((c) => c.streamVersion), due.map((c) => c.dueAtMs)],
    );
  }
  if (done.length > 0) {
    await client.query('DELETE FROM dispatch_schedule WHERE message_id = ANY($1::uuid[])', [
      done.map((c) => c.messageId),
    ]);
  }
}

/** Reserves up to `limit` due messages until `nowMs + leaseMs`; returns their ids, oldest due first. */
export async function claimDueMessages(pool: pg.Pool, nowMs: number, leaseMs: number, limit: number) {
  const { rows } = await pool.query<{ message_id: string }>(
    `UPDATE dispatch_schedule SET lease_until = to_timestamp($2 / 1000.0)
      WHERE message_id IN (
        SELECT message_id FROM dispatch_schedule
         WHERE due_at <= to_timestamp($1 / 1000.0)
           AND (lease_until IS NULL OR lease_until <= to_timestamp($1 / 1000.0))
         ORDER BY due_at
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
      RETURNING message_id`,
    [nowMs, nowMs + leaseMs, limit],
  );
  return rows.map((r) => r.message_id);
}

/** Messages with no outcome yet (for /ready and metrics). */
export async function scheduledCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM dispatch_schedule');
  return Number(rows[0]?.n ?? 0);
}
