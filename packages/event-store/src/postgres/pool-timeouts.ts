// Session limits for every PostgreSQL pool of the project (the log adapter's, the projector's, the read
// pool's), so no statement, connection attempt or forgotten transaction can hang a process or hold back
// the log's readers. Defaults here; each process reads PG_*_TIMEOUT_MS from its environment.
import { z } from 'zod';

export interface PoolTimeouts {
  /** Longest a connection attempt may take (default 5 s). */
  connectionTimeoutMs?: number;
  /** Longest one statement may run (default 30 s). */
  statementTimeoutMs?: number;
  /**
   * A session idle inside a transaction longer than this is ended by the server (default 10 s): one
   * forgotten transaction would otherwise hold every subscriber behind the snapshot gate.
   */
  idleInTransactionTimeoutMs?: number;
}

/** pg.Pool settings for the timeouts (defaults as documented on PoolTimeouts). */
export function poolTimeouts(timeouts: PoolTimeouts = {}) {
  return {
    connectionTimeoutMillis: timeouts.connectionTimeoutMs ?? 5_000,
    statement_timeout: timeouts.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs ?? 10_000,
  };
}

/** How long subscribers have been held behind the snapshot gate by an older open transaction. */
export interface SnapshotGateStats {
  /** Seconds the longest currently held subscriber has waited (0 when none is held). */
  heldSeconds: number;
  /** Total seconds subscribers spent held, since start. */
  totalHeldSeconds: number;
}

/** The environment variables every process reads for its pools (milliseconds). */
export const poolTimeoutsEnvSchema = z.object({
  PG_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
});

export function poolTimeoutsFromEnv(env: Record<string, string | undefined> = process.env): PoolTimeouts {
  const parsed = poolTimeoutsEnvSchema.parse(env);
  return {
    connectionTimeoutMs: parsed.PG_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: parsed.PG_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: parsed.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}
