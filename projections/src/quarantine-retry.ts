// `bin/replay --retry-quarantined`: after a fix (a migration widening a column, a corrected projection),
// applies each open quarantined event again to the projection that refused it. The projection's checkpoint
// is already past it, so the event is folded onto the current rows (status only moves forward, so a late
// event cannot move a message back); `bin/replay --verify` then says whether the tables equal a rebuild.
import type { EventStore } from '@hatch/event-store';
import type pg from 'pg';
import { parseBatch } from './applier.ts';
import type { Projection } from './projection.ts';
import { isPoisonError, listQuarantine, lockProjectionsForApply, type QuarantineRow } from './quarantine.ts';

export interface RetryOutcome {
  entry: QuarantineRow;
  /** `resolved`: it applied now; `refused`: still poison (error updated); `missing`: not in the log. */
  result: 'resolved' | 'refused' | 'missing';
  error: string | null;
}

export async function retryQuarantined(options: {
  db: pg.ClientBase;
  store: EventStore;
  projections: readonly Projection[];
}): Promise<RetryOutcome[]> {
  const { db, store } = options;
  const outcomes: RetryOutcome[] = [];
  for (const entry of await listQuarantine(db)) {
    const projection = options.projections.find((p) => p.name === entry.projection);
    if (!projection) continue;
    const event = (await store.readStream(entry.streamId)).find((e) => e.id === entry.eventId);
    if (!event) {
      outcomes.push({ entry, result: 'missing', error: 'the event is not in its stream' });
      continue;
    }
    const { events, domain } = parseBatch([event]);
    await db.query('BEGIN');
    try {
      // Serialised with the projector's batches on this projection (see lockProjectionsForApply).
      await lockProjectionsForApply(db, [projection.name]);
      await projection.apply(db, 'public', events, domain);
      await db.query(
        'UPDATE projection_quarantine SET retried_at = now(), resolved_at = now() WHERE projection = $1 AND position = $2',
        [entry.projection, entry.position],
      );
      await db.query('COMMIT');
      outcomes.push({ entry, result: 'resolved', error: null });
    } catch (error) {
      await db.query('ROLLBACK').catch(() => {});
      if (!isPoisonError(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      await db.query(
        'UPDATE projection_quarantine SET retried_at = now(), error = $3 WHERE projection = $1 AND position = $2',
        [entry.projection, entry.position, message.slice(0, 2000)],
      );
      outcomes.push({ entry, result: 'refused', error: message });
    }
  }
  return outcomes;
}
