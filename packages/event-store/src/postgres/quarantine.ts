// Poison events: one event a consumer of the log cannot apply for a reason retrying will not change (a value
// PostgreSQL refuses, a broken constraint, a fold that throws on it) must not freeze it, since the log is
// immutable and the consumer would retry the same batch forever. A failing batch is split until the one
// failing event is found; that event is recorded in `projection_quarantine` under the consumer's name (the
// projector's projections, the dispatcher's schedule, the Kafka relay) and the checkpoint moves past it.
// Anything else (connection loss, serialization failures, timeouts) is transient: the batch is retried whole.
import type { RecordedEvent } from '../event-store.ts';
import type { Queryable } from './checkpoints.ts';

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
