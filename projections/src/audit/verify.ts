// --verify: rebuild into a scratch schema up to exactly the position the live tables reflect, then compare
// inside one REPEATABLE READ snapshot (live tables and their checkpoints read at the same instant). When the
// live projector moves on in between, the scratch copy catches up and the comparison is tried again.
// The rebuild writes through plain pg (the projector's batches); every read goes through the read pool.
import type { EventStore } from '@hatch/event-store';
import type pg from 'pg';
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { checkpointId, type Projection } from '../projection.ts';
import type { ReadPool } from '../read-pool.ts';
import { compareSchemas, type TableComparison } from './compare.ts';
import { createAuditTables, rebuildInto } from './rebuild.ts';

export interface VerifyOptions {
  store: EventStore;
  /** Writes the scratch schema. */
  db: pg.ClientBase;
  /** Reads checkpoints and compares (`createReadPool`). */
  readPool: ReadPool;
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

const checkpointRow = z.object({ subscription_id: z.string(), position: z.string() });

async function liveCheckpoints(db: CommonQueryMethods, projections: readonly Projection[]) {
  const rows = await db.any(
    sql.type(checkpointRow)`SELECT subscription_id, position FROM subscription_checkpoints
      WHERE subscription_id = ANY(${sql.array(
        projections.map((p) => checkpointId(p.name)),
        'text',
      )})`,
  );
  const positions = projections.map(
    (p) => rows.find((r) => r.subscription_id === checkpointId(p.name))?.position ?? null,
  );
  return positions;
}

/** Verifies projections that share one checkpoint (the projector runs them together). */
async function verifyGroup(options: VerifyOptions, projections: readonly Projection[]): Promise<VerifyResult> {
  const { db, readPool, store } = options;
  await createAuditTables(db, projections, options.scratchSchema);
  let built: string | null = null;
  let events = 0;
  for (let attempt = 0; attempt < (options.maxAttempts ?? 20); attempt++) {
    const [target] = await liveCheckpoints(readPool, projections);
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
    const verified = await readPool.transaction(async (snapshot) => {
      await snapshot.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
      const now = await liveCheckpoints(snapshot, projections);
      if (!now.every((p) => p === built)) return null;
      const tables = await compareSchemas(snapshot, projections, 'public', options.scratchSchema);
      return { position: built, tables, drift: tables.some((t) => !t.equal) };
    });
    if (verified) return verified;
  }
  throw new Error('the live projection kept moving; stop it or retry when the log is quieter');
}

export async function verifyProjections(options: VerifyOptions): Promise<VerifyResult[]> {
  const positions = await liveCheckpoints(options.readPool, options.projections);
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
