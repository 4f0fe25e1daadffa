// Dispatch records the relay holds back until they are due (see migration kafka-dispatch-deferred): the
// schedule that drives the relay's publishing of scheduled sends and retries.
import type { Queryable } from '@hatch/event-store';
import type { DispatchRecord } from './dispatch-record.ts';

export interface DeferredDispatch {
  key: string;
  record: DispatchRecord;
  dueAtMs: number;
}

export interface DeferredDispatches {
  /** Keeps records for later; adding one already kept is a no-op (a replayed relay batch). */
  add(records: readonly DeferredDispatch[]): Promise<void>;
  /** The records due at or before `untilMs`, oldest first. */
  due(untilMs: number, limit: number): Promise<DeferredDispatch[]>;
  /** Forgets records once they are published. */
  remove(eventIds: readonly string[]): Promise<void>;
}

export const postgresDeferredDispatches = (db: Queryable): DeferredDispatches => ({
  async add(records) {
    if (records.length === 0) return;
    await db.query(
      `INSERT INTO kafka_dispatch_deferred (event_id, message_id, record_key, record, due_at)
       SELECT r.record->>'eventId', (r.record->>'messageId')::uuid, r.key, r.record, to_timestamp(r."dueAtMs" / 1000.0)
         FROM json_to_recordset($1::json) AS r(key text, record jsonb, "dueAtMs" double precision)
       ON CONFLICT (event_id) DO NOTHING`,
      [JSON.stringify(records)],
    );
  },
  async due(untilMs, limit) {
    const { rows } = await db.query(
      `SELECT record_key AS key, record, (extract(epoch FROM due_at) * 1000)::float8 AS "dueAtMs"
         FROM kafka_dispatch_deferred WHERE due_at <= to_timestamp($1 / 1000.0) ORDER BY due_at, event_id LIMIT $2`,
      [untilMs, limit],
    );
    return rows.map((r) => ({ key: r.key as string, record: r.record as DispatchRecord, dueAtMs: Number(r.dueAtMs) }));
  },
  async remove(eventIds) {
    if (eventIds.length === 0) return;
    await db.query('DELETE FROM kafka_dispatch_deferred WHERE event_id = ANY($1::text[])', [[...eventIds]]);
  },
});
