// Poison events: one event a projection cannot apply for a reason retrying will not change (a value
// PostgreSQL refuses, a broken constraint, a fold that throws on it) must not freeze the read side, since the
// log is immutable and the projector would retry the same batch forever. A failing batch is split until the
// one failing event is found; that event is recorded in `projection_quarantine` for the projections that
// refuse it and the checkpoints move past it. Anything else (connection loss, serialization failures,
// timeouts) is transient: the batch is retried whole.
import type { Queryable, RecordedEvent } from '@hatch/event-store';

export interface QuarantinedEvent {
  projection: string;
  position: string;
  eventId: string;
  eventType: string;
  streamId: string;
  error: string;
  sqlstate: string | null;
}

const sqlstateOf = (error: unknown): string | null => {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
};

/**
 * Non-transient: PostgreSQL's data exceptions (class 22: out-of-range dates and numbers, NUL bytes, bad
 * JSON) and integrity violations (class 23), or an error the projection's own code threw on the event
 * (TypeError, RangeError such as an invalid date). Connection errors from pg carry no SQLSTATE and are plain
 * `Error`s, so they stay transient, as do serialization failures (40001), deadlocks and timeouts.
 */
export function isPoisonError(error: unknown): boolean {
  const sqlstate = sqlstateOf(error);
  if (sqlstate !== null) return sqlstate.startsWith('22') || sqlstate.startsWith('23');
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError;
}

export function quarantineEntry(projection: string, event: RecordedEvent, error: unknown): QuarantinedEvent {
  return {
    projection,
    position: event.position,
    eventId: event.id,
    eventType: event.type,
    streamId: event.streamId,
    error: (error instanceof Error ? error.message : String(error)).slice(0, 2000),
    sqlstate: sqlstateOf(error),
  };
}

/**
 * Runs `attempt` on the whole batch; when it fails with a poison error, on each half, down to single events,
 * which get `isolate: true` (apply what can be applied, quarantine the rest). Slices run in log order.
 */
export async function splitOnPoison(
  recorded: readonly RecordedEvent[],
  attempt: (slice: readonly RecordedEvent[], isolate: boolean) => Promise<void>,
): Promise<void> {
  if (recorded.length === 0) return;
  try {
    await attempt(recorded, false);
  } catch (error) {
    if (!isPoisonError(error)) throw error;
    if (recorded.length === 1) {
      await attempt(recorded, true);
      return;
    }
    const middle = Math.ceil(recorded.length / 2);
    await splitOnPoison(recorded.slice(0, middle), attempt);
    await splitOnPoison(recorded.slice(middle), attempt);
  }
}

/** Records quarantined events (inside the caller's transaction); re-quarantining a position refreshes it. */
export async function recordQuarantine(db: Queryable, entries: readonly QuarantinedEvent[]) {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO projection_quarantine (projection, position, event_id, event_type, stream_id, error, sqlstate)
     SELECT projection, position, "eventId", "eventType", "streamId", error, sqlstate
       FROM json_to_recordset($1::json) AS q(projection text, position text, "eventId" text, "eventType" text,
                                            "streamId" text, error text, sqlstate text)
     ON CONFLICT (projection, position) DO UPDATE
       SET error = EXCLUDED.error, sqlstate = EXCLUDED.sqlstate, quarantined_at = now(), resolved_at = NULL`,
    [JSON.stringify(entries)],
  );
}

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
  await db.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('apply:' || n, 0)) FROM unnest($1::text[]) AS n ORDER BY n`,
    [[...names]],
  );
}
