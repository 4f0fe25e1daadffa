// Consumer checkpoints that commit inside the consumer's own transaction (a projection writes its rows
// and its checkpoint atomically). Compare-and-set on the previous position: a stale owner that lost
// its lock and replays old events cannot move the checkpoint.
import type { LogPosition } from '../event-store.ts';

export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

export class StaleCheckpointError extends Error {
  override readonly name = 'StaleCheckpointError';
  constructor(
    readonly subscriptionId: string,
    readonly expectedPrevious: LogPosition | null,
  ) {
    super(`checkpoint ${subscriptionId} moved since ${expectedPrevious ?? 'the start'}: another owner is active`);
  }
}

export async function loadCheckpoint(db: Queryable, subscriptionId: string): Promise<LogPosition | null> {
  const { rows } = await db.query('SELECT position FROM subscription_checkpoints WHERE subscription_id = $1', [
    subscriptionId,
  ]);
  return (rows[0]?.position as string | undefined) ?? null;
}

export async function storeCheckpoint(
  db: Queryable,
  subscriptionId: string,
  position: LogPosition,
  expectedPrevious: LogPosition | null,
): Promise<void> {
  const result =
    expectedPrevious === null
      ? await db.query(
          `INSERT INTO subscription_checkpoints (subscription_id, position) VALUES ($1, $2)
           ON CONFLICT (subscription_id) DO NOTHING`,
          [subscriptionId, position],
        )
      : await db.query(
          `UPDATE subscription_checkpoints SET position = $2, updated_at = now()
            WHERE subscription_id = $1 AND position = $3 AND $2 > position`,
          [subscriptionId, position, expectedPrevious],
        );
  if (result.rowCount !== 1) throw new StaleCheckpointError(subscriptionId, expectedPrevious);
}

export async function resetCheckpoint(db: Queryable, subscriptionId: string): Promise<void> {
  await db.query('DELETE FROM subscription_checkpoints WHERE subscription_id = $1', [subscriptionId]);
}
