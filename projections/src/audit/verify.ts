// --verify: rebuild into a scratch schema up to exactly the position the live tables reflect, then compare
// inside one REPEATABLE READ snapshot (live tables and their checkpoints read at the same instant). When the
// live projector moves on in between, the scratch copy catches up and the comparison is tried again.
import type { EventStore } from '@hatch/event-store';
import type pg from 'pg';
import { checkpointId, type Projection } from '../projection.ts';
import { compareSchemas, type TableComparison } from './compare.ts';
import { createAuditTables, rebuildInto } from './rebuild.ts';

export interface VerifyOptions {
  store: EventStore;
  db: pg.ClientBase;
  projections: readonly Projection[];
  scratchSchema: string;
  batchSize?: number;
  maxAttempts?: number;
  onProgress?: (progress: { events: number; position: string }) => void;
}

export interface VerifyResult {
  position: string | null;
  tables: TableComparison[];
  drift: boolean;
}

async function liveCheckpoints(db: pg.ClientBase, projections: readonly Projection[]) {
  const { rows } = await db.query<{ subscription_id: string; position: string }>(
    'SELECT subscription_id, position FROM subscription_checkpoints WHERE subscription_id = ANY($1)',
    [projections.map((p) => checkpointId(p.name))],
  );
  const positions = projections.map(
    (p) => rows.find((r) => r.subscription_id === checkpointId(p.name))?.position ?? null,
  );
  return positions;
}

/** Verifies projections that share one checkpoint (the projector runs them together). */
async function verifyGroup(options: VerifyOptions, projections: readonly Projection[]): Promise<VerifyResult> {
  const { db, store } = options;
  await createAuditTables(db, projections, options.scratchSchema);
  let built: string | null = null;
  let events = 0;
  for (let attempt = 0; attempt < (options.maxAttempts ?? 20); attempt++) {
    const [target] = await liveCheckpoints(db, projections);
    if (target && target !== built) {
      const result = await rebuildInto({
        store,
        db,
        projections,
        schema: options.scratchSchema,
        after: built,
        untilPosition: target,
        batchSize: options.batchSize ?? 5000,
        onProgress: (p) => options.onProgress?.({ events: events + p.events, position: p.position }),
      });
      events += result.events;
      built = target;
    }
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const now = await liveCheckpoints(db, projections);
      if (now.every((p) => p === built)) {
        const tables = await compareSchemas(db, projections, 'public', options.scratchSchema);
        return { position: built, tables, drift: tables.some((t) => !t.equal) };
      }
    } finally {
      await db.query('COMMIT');
    }
  }
  throw new Error('the live projection kept moving; stop it or retry when the log is quieter');
}

export async function verifyProjections(options: VerifyOptions): Promise<VerifyResult[]> {
  const positions = await liveCheckpoints(options.db, options.projections);
  // Usually one projector runs them all with one checkpoint; otherwise each is checked on its own.
  const groups = positions.every((p) => p === positions[0])
    ? [options.projections]
    : options.projections.map((p) => [p]);
  const results: VerifyResult[] = [];
  try {
    for (const group of groups) results.push(await verifyGroup(options, group));
  } finally {
    await options.db.query(`DROP SCHEMA IF EXISTS ${options.scratchSchema} CASCADE`).catch(() => {});
  }
  return results;
}
