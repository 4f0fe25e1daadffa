// Audit rebuilds: a projection's tables recreated in another schema (same definition as the live ones,
// copied with LIKE … INCLUDING ALL) and filled from the start of the log, optionally only up to a log
// position or a point in time. Nothing here touches the live tables or their checkpoints.
import type { EventStore, RecordedEvent } from '@hatch/event-store';
import type pg from 'pg';
import { applyEvents, parseBatch } from '../applier.ts';
import type { Projection } from '../projection.ts';
import { splitOnPoison } from '../quarantine.ts';
import { assertIdentifier, qualified } from '../sql.ts';

export interface RebuildOptions {
  store: EventStore;
  db: pg.ClientBase;
  projections: readonly Projection[];
  schema: string;
  /** Inclusive: events at or before this position. */
  untilPosition?: string | null;
  /** Inclusive: events recorded at or before this instant. */
  untilTime?: string | null;
  batchSize?: number;
  /** Continue an earlier rebuild into the same schema from this position (exclusive). */
  after?: string | null;
  onProgress?: (progress: { events: number; position: string }) => void;
}

/** Creates (or recreates, empty) the projections' tables in `schema`. */
export async function createAuditTables(db: pg.ClientBase, projections: readonly Projection[], schema: string) {
  assertIdentifier(schema);
  if (schema === 'public') throw new RangeError('refusing to recreate the live tables in public');
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const tables = projections.flatMap((p) => p.tables);
  for (const table of [...tables].reverse()) await db.query(`DROP TABLE IF EXISTS ${qualified(schema, table)}`);
  // Foreign keys are not copied by LIKE; the projections never rely on them.
  for (const table of tables)
    await db.query(`CREATE TABLE ${qualified(schema, table)} (LIKE ${qualified('public', table)} INCLUDING ALL)`);
}

// The log orders by (transaction, position), and a transaction stamps its start time: once a whole batch
// lies this far past --until-time, no later event can be earlier.
const untilTimeSlackMs = 5 * 60_000;

/** Fills the tables (already created) from the log. Returns how many events were read and the last position. */
export async function rebuildInto(options: RebuildOptions) {
  const { store, db, projections, schema } = options;
  const untilTime = options.untilTime ? Date.parse(options.untilTime) : null;
  let after = options.after ?? null;
  let events = 0;
  for (;;) {
    const batch = await store.readAll({ after, limit: options.batchSize ?? 2000 });
    if (batch.length === 0) break;
    let chosen: RecordedEvent[] = batch;
    let done = false;
    if (options.untilPosition) {
      chosen = chosen.filter((e) => e.position <= (options.untilPosition as string));
      if (chosen.length < batch.length) done = true;
    }
    if (untilTime !== null) {
      chosen = chosen.filter((e) => Date.parse(e.recordedAt) <= untilTime);
      if (batch.every((e) => Date.parse(e.recordedAt) > untilTime + untilTimeSlackMs)) done = true;
    }
    // A poison event the projector quarantined is left out here the same way (split, then isolated).
    await splitOnPoison(chosen, async (slice, isolate) => {
      await db.query('BEGIN');
      try {
        await applyEvents(db, projections, schema, parseBatch(slice), isolate);
        await db.query('COMMIT');
      } catch (error) {
        await db.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
    events += chosen.length;
    after = (batch.at(-1) as RecordedEvent).position;
    options.onProgress?.({ events, position: after });
    if (done) break;
  }
  return { events, position: after };
}
