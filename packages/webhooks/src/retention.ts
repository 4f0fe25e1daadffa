// Retention of the notifier's delivery records: delivered deliveries older than the window, with their
// attempts, are deleted in bounded batches (short transactions, no long lock on the delivery tables).
// Pending and failed deliveries stay: they are what an account still has to see and repair.
import type { Queryable } from '@hatch/event-store';

export interface RetentionOptions {
  /** Delivered before this instant: deleted. */
  deliveredBefore: Date;
  /** Deliveries per DELETE statement. */
  batchSize: number;
  /** Upper bound of batches in one run (the next run continues). */
  maxBatches?: number;
}

/** Deletes expired delivered deliveries (attempts cascade), oldest first; returns how many deliveries went. */
export async function pruneDeliveredDeliveries(db: Queryable, options: RetentionOptions): Promise<number> {
  let total = 0;
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  for (let batch = 0; batch < maxBatches; batch++) {
    const { rows } = await db.query(
      `WITH expired AS (
         SELECT delivery_id FROM webhook_deliveries
          WHERE state = 'delivered' AND delivered_at < $1
          ORDER BY delivered_at LIMIT $2
            FOR UPDATE SKIP LOCKED
       ), gone AS (
         DELETE FROM webhook_deliveries d USING expired WHERE d.delivery_id = expired.delivery_id RETURNING 1
       )
       SELECT count(*)::int AS n FROM gone`,
      [options.deliveredBefore, options.batchSize],
    );
    const deleted = Number(rows[0]?.n ?? 0);
    total += deleted;
    if (deleted < options.batchSize) break;
  }
  return total;
}
