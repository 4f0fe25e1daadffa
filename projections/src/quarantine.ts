// Poison events of the projector's projections: the split-and-record mechanism lives with the checkpointed
// consumers in @hatch/event-store (the dispatcher's schedule and the relay use it too); listing, counting and
// serialising out-of-band retries against the projections' batches are here.
import type { QuarantinedEvent, Queryable } from '@hatch/event-store';
import { assertIdentifier } from './sql.ts';

export type { QuarantinedEvent } from '@hatch/event-store';
export { isPoisonError, quarantineEntry, recordQuarantine, splitOnPoison } from '@hatch/event-store';

export interface QuarantineRow extends QuarantinedEvent {
  quarantinedAt: string;
  retriedAt: string | null;
  resolvedAt: string | null;
}

/** Quarantined events in log order; only the open ones unless `all`. */
export async function listQuarantine(db: Queryable, options: { all?: boolean } = {}): Promise<QuarantineRow[]> {
  const { rows } = await db.query(
    `SELECT json_build_object('projection', projection, 'position', position, 'eventId', event_id,
              'eventType', event_type, 'streamId', stream_id, 'error', error, 'sqlstate', sqlstate,
              'quarantinedAt', quarantined_at, 'retriedAt', retried_at, 'resolvedAt', resolved_at) AS row
       FROM projection_quarantine WHERE $1 OR resolved_at IS NULL ORDER BY position, projection`,
    [options.all === true],
  );
  return rows.map((r) => r.row as QuarantineRow);
}

/** How many quarantined events are still open (the metric the operations view shows). */
export async function countOpenQuarantine(db: Queryable): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM projection_quarantine WHERE resolved_at IS NULL');
  return Number(rows[0]?.n ?? 0);
}

/**
 * Serialises a projection's batch transactions with anything else that writes its rows out of band (a
 * quarantine retry): both take these transaction-scoped locks first, so neither overwrites rows the other
 * loaded. Different keys from the projector's session-level ownership locks.
 */
export async function lockProjectionsForApply(db: Queryable, names: readonly string[]) {
  await db.query(applyLocksSql(names));
}

/**
 * The statement of `lockProjectionsForApply`, without parameters (names are plain identifiers), so a batch
 * sends it in one round trip with its BEGIN. Sorted: two lockers of overlapping sets never deadlock.
 */
export function applyLocksSql(names: readonly string[]) {
  const keys = [...names]
    .sort()
    .map((n) => `pg_advisory_xact_lock(hashtextextended('apply:${assertIdentifier(n)}', 0))`);
  return `SELECT ${keys.join(', ')}`;
}
