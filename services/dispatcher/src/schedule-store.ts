// The dispatch_schedule table: applied from the log with the checkpoint in one transaction, and
// claimed by workers with a lease (SKIP LOCKED, so several dispatchers share it without blocking).
import type { ScheduleChange } from '@hatch/dispatch';
import type pg from 'pg';

/**
 * Applies one batch of changes. Fresh requests listed in `lease` are inserted already leased until
 * `leaseUntilMs` (the caller dispatches them at once, without a claim round trip); the ids actually
 * inserted that way are returned (a row that already existed is left to the claim loop).
 */
export async function applyScheduleChanges(
  client: pg.PoolClient,
  changes: ScheduleChange[],
  lease: { ids: Set<string>; untilMs: number } = { ids: new Set(), untilMs: 0 },
): Promise<Set<string>> {
  const dueChanges = changes.filter((c): c is Extract<ScheduleChange, { kind: 'due' }> => c.kind === 'due');
  const leased = dueChanges.filter((c) => lease.ids.has(c.messageId));
  const due = dueChanges.filter((c) => !lease.ids.has(c.messageId));
  const done = changes.filter((c) => c.kind === 'done');
  const inserted = new Set<string>();
  if (leased.length > 0) {
    const { rows } = await client.query<{ message_id: string }>(
      `INSERT INTO dispatch_schedule (message_id, stream_version, due_at, lease_until)
       SELECT id, v, to_timestamp(at / 1000.0), to_timestamp($4 / 1000.0)
         FROM unnest($1::uuid[], $2::bigint[], $3::float8[]) AS t(id, v, at)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [leased.map((c) => c.messageId), leased.map((c) => c.streamVersion), leased.map((c) => c.dueAtMs), lease.untilMs],
    );
    for (const row of rows) inserted.add(row.message_id);
  }
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
  return inserted;
}

/** Gives a message back to the claim loop at once (its attempt lost a race and must re-read the stream). */
export async function releaseLease(pool: pg.Pool, messageId: string): Promise<void> {
  await pool.query('UPDATE dispatch_schedule SET lease_until = NULL WHERE message_id = $1', [messageId]);
}

export interface LeaseRenewal {
  messageId: string;
  heldUntilMs: number;
  untilMs: number;
}

/**
 * Moves this process's lease on each message from `heldUntilMs` (the exact value it wrote) to `untilMs`.
 * Compare-and-set on the value: a renewal does not move when another dispatcher re-leased the message after
 * ours lapsed, or its row is gone (an outcome was recorded), so a slow attempt can never call the provider
 * beside a new one. Many messages in one statement; returns the renewals that moved, as `leaseRenewalKey`s. The values are passed as numeric, like the single-row form and the writes,
 * so the timestamps compared are computed exactly as the ones written.
 */
export async function renewLeases(pool: pg.Pool, renewals: readonly LeaseRenewal[]): Promise<Set<string>> {
  const { rows } = await pool.query<{ message_id: string; held: string }>(
    `UPDATE dispatch_schedule s SET lease_until = to_timestamp(t.until / 1000.0)
       FROM unnest($1::uuid[], $2::numeric[], $3::numeric[]) AS t(id, held, until)
      WHERE s.message_id = t.id AND s.lease_until = to_timestamp(t.held / 1000.0)
      RETURNING s.message_id, t.held::text AS held`,
    [renewals.map((r) => r.messageId), renewals.map((r) => r.heldUntilMs), renewals.map((r) => r.untilMs)],
  );
  return new Set(rows.map((r) => leaseRenewalKey(r.message_id, Number(r.held))));
}

export const leaseRenewalKey = (messageId: string, heldUntilMs: number) => `${messageId}@${heldUntilMs}`;

/**
 * Reserves up to `limit` due messages until `nowMs + leaseMs`; returns them oldest due first.
 * `expired`: take messages whose lease ran out (their dispatcher crashed or hung) instead of waiting ones.
 * `aheadMs`: also take waiting messages due up to that long after `nowMs` (held until due by the caller).
 */
export async function claimDueMessages(
  pool: pg.Pool,
  nowMs: number,
  leaseMs: number,
  limit: number,
  { expired = false, aheadMs = 0 }: { expired?: boolean; aheadMs?: number } = {},
): Promise<{ messageId: string; dueAtMs: number }[]> {
  const waiting = `lease_until IS NULL AND due_at <= to_timestamp(($1::float8 + $4::float8) / 1000.0) ORDER BY due_at`;
  const lapsed = `lease_until IS NOT NULL AND lease_until <= to_timestamp($1 / 1000.0) ORDER BY lease_until`;
  const { rows } = await pool.query<{ message_id: string; due_ms: number }>(
    `UPDATE dispatch_schedule SET lease_until = to_timestamp($2 / 1000.0)
      WHERE message_id IN (
        SELECT message_id FROM dispatch_schedule
         WHERE ${expired ? lapsed : waiting}
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
      RETURNING message_id, (extract(epoch FROM due_at) * 1000)::float8 AS due_ms`,
    [nowMs, nowMs + leaseMs, limit, ...(expired ? [] : [aheadMs])],
  );
  return rows.map((r) => ({ messageId: r.message_id, dueAtMs: r.due_ms })).sort((a, b) => a.dueAtMs - b.dueAtMs);
}

/**
 * Gives back leases this process holds but never started (shutting down), compare-and-set on the value
 * it wrote: another dispatcher can take them at once instead of after the lease.
 */
export async function releaseUnstartedLeases(pool: pg.Pool, held: { messageId: string; leasedUntil: number }[]) {
  if (held.length === 0) return;
  await pool.query(
    `UPDATE dispatch_schedule d SET lease_until = NULL
       FROM unnest($1::uuid[], $2::float8[]) AS h(id, until)
      WHERE d.message_id = h.id AND d.lease_until = to_timestamp(h.until / 1000.0)`,
    [held.map((h) => h.messageId), held.map((h) => h.leasedUntil)],
  );
}

/**
 * The dispatch backlog at `nowMs`: messages due and claimed by nobody (never leased, or their lease ran
 * out), and how long the oldest of them has been due. Each half reads its own partial index.
 */
export async function dueBacklog(pool: pg.Pool, nowMs: number): Promise<{ due: number; oldestDueSeconds: number }> {
  const { rows } = await pool.query<{ due: number; oldest_ms: number | null }>(
    `SELECT sum(n)::int AS due, min(oldest) AS oldest_ms FROM (
       SELECT count(*) AS n, min(extract(epoch FROM due_at) * 1000)::float8 AS oldest FROM dispatch_schedule
        WHERE lease_until IS NULL AND due_at <= to_timestamp($1 / 1000.0)
       UNION ALL
       SELECT count(*), min(extract(epoch FROM due_at) * 1000)::float8 FROM dispatch_schedule
        WHERE lease_until IS NOT NULL AND lease_until <= to_timestamp($1 / 1000.0)) AS halves`,
    [nowMs],
  );
  const row = rows[0];
  return {
    due: row?.due ?? 0,
    oldestDueSeconds: row?.oldest_ms == null ? 0 : Math.max(0, (nowMs - row.oldest_ms) / 1000),
  };
}
