// Runs a batch of log events through a set of projections in ONE transaction together with each
// projection's checkpoint (compare-and-set), so every event is applied exactly once even across crashes:
// either the rows and the checkpoint commit together, or neither does. A projection whose checkpoint is
// already past part of the batch (e.g. it was rebuilt separately) only sees the events after it.
import { isMessageEvent, parseDomainEvent } from '@hatch/domain';
import { type Queryable, type RecordedEvent, StaleCheckpointError } from '@hatch/event-store';
import type pg from 'pg';
import { checkpointId, type ProjectedDomainEvent, type ProjectedEvent, type Projection } from './projection.ts';
import {
  applyLocksSql,
  isPoisonError,
  type QuarantinedEvent,
  quarantineEntry,
  recordQuarantine,
  splitOnPoison,
} from './quarantine.ts';

/** NOTIFY channel the applier signals after each commit (payload: the lowest checkpoint it wrote). */
export const projectionsChannel = 'hatch_projections';

export interface ParsedBatch {
  /** The message events. */
  events: ProjectedEvent[];
  /** Every domain event (messages, consent, contacts). */
  domain: ProjectedDomainEvent[];
  /** Events of no known type, or failing their schema: skipped the same way on every rebuild. */
  skipped: { position: string; type: string; reason: string }[];
}

export function parseBatch(recorded: readonly RecordedEvent[]): ParsedBatch {
  const events: ProjectedEvent[] = [];
  const domain: ProjectedDomainEvent[] = [];
  const skipped: ParsedBatch['skipped'] = [];
  for (const r of recorded) {
    try {
      const event = parseDomainEvent(r.type, r.data);
      const projected = { eventId: r.id, position: r.position, recordedAt: r.recordedAt, event };
      domain.push(projected);
      if (isMessageEvent(event)) events.push({ ...projected, event });
    } catch (error) {
      skipped.push({ position: r.position, type: r.type, reason: error instanceof Error ? error.message : 'invalid' });
    }
  }
  return { events, domain, skipped };
}

/**
 * Applies the events (log order) to each projection's tables in `schema`; no checkpoints (audit rebuilds).
 * With `isolate`, a projection refusing them with a poison error is left out (savepoint), as the projector
 * quarantines it, so a rebuild skips the same events the live tables did.
 */
export async function applyEvents(
  db: pg.ClientBase,
  projections: readonly Projection[],
  schema: string,
  batch: Pick<ParsedBatch, 'events' | 'domain'>,
  isolate = false,
) {
  for (const projection of projections) {
    if (!isolate) {
      await projection.apply(db, schema, batch.events, batch.domain);
      continue;
    }
    await applyIsolated(db, () => projection.apply(db, schema, batch.events, batch.domain));
  }
}

/** Runs `apply` in a savepoint; a poison error rolls just it back and is returned (null: it applied). */
async function applyIsolated(db: pg.ClientBase, apply: () => Promise<void>): Promise<unknown> {
  await db.query('SAVEPOINT isolated_projection');
  try {
    await apply();
    await db.query('RELEASE SAVEPOINT isolated_projection');
    return null;
  } catch (error) {
    if (!isPoisonError(error)) throw error;
    await db.query('ROLLBACK TO SAVEPOINT isolated_projection');
    return error;
  }
}

/**
 * Waits for projections applied concurrently on one connection and rethrows the error that aborted the
 * transaction. They own disjoint tables and each awaits its own statements in order, so interleaving
 * them through one FIFO queue of statements (queuedQueries) writes the same rows as applying them one after the other, while
 * one projection folds in JS as another's statement runs in PostgreSQL. The statements queued behind a
 * failure fail with 25P02 (transaction aborted): the cause is the other error (a poison error is split on).
 */
async function settleConcurrent(applies: readonly Promise<void>[]) {
  const errors: unknown[] = [];
  for (const outcome of await Promise.allSettled(applies))
    if (outcome.status === 'rejected') errors.push(outcome.reason);
  if (errors.length === 0) return;
  throw errors.find((e) => sqlstateOf(e) !== '25P02') ?? errors[0];
}

/** The connection's statements one after another in call order (pg 9 will refuse overlapping calls). */
function queuedQueries(client: pg.ClientBase): Queryable {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    query(text, values) {
      const run = tail.then(() => client.query(text, values));
      tail = run.catch(() => {});
      return run;
    },
  };
}

const sqlstateOf = (error: unknown) =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : null;

export interface CheckpointedBatch {
  projections: readonly Projection[];
  /** Each projection's checkpoint before this batch (null: nothing applied yet). */
  checkpoints: ReadonlyMap<string, string | null>;
  recorded: readonly RecordedEvent[];
  /**
   * `parseBatch(recorded)` done ahead (the projector parses batch N+1 while batch N's statements run);
   * only used for the whole batch, not for the halves a poison split retries.
   */
  parsed?: ParsedBatch;
  schema?: string;
  /** Test seam: runs inside the transaction after the rows are written, before the checkpoints. */
  beforeCheckpoint?: () => Promise<void> | void;
  /**
   * Each projection applies inside a savepoint, and one refusing the batch with a poison error is
   * quarantined for it (the others still apply, every checkpoint still moves). Meant for one event.
   */
  isolate?: boolean;
}

/**
 * Applies one batch and moves every projection's checkpoint to the batch's last position in one
 * transaction. Returns the new checkpoints. Throws `StaleCheckpointError` (rolled back) when another owner
 * moved a checkpoint meanwhile.
 */
export async function applyBatchWithCheckpoints(client: pg.ClientBase, batch: CheckpointedBatch) {
  const last = batch.recorded.at(-1)?.position;
  const next = new Map(batch.checkpoints);
  if (last === undefined)
    return { checkpoints: next, applied: 0, skipped: [] as ParsedBatch['skipped'], quarantined: [] };
  const { events, domain, skipped } = batch.parsed ?? parseBatch(batch.recorded);
  let applied = 0;
  const quarantined: QuarantinedEvent[] = [];
  try {
    // Rows and checkpoint share the commit record, so an unflushed commit lost in a server crash loses both
    // together and the batch is simply applied again: durability of each commit buys nothing here.
    // One round trip with the BEGIN: a live batch's time is mostly round trips.
    await client.query(
      `BEGIN; SET LOCAL synchronous_commit = off; ${applyLocksSql(batch.projections.map((p) => p.name))}`,
    );
    const concurrent: Promise<void>[] = [];
    const queue = queuedQueries(client);
    for (const projection of batch.projections) {
      const previous = batch.checkpoints.get(projection.name) ?? null;
      if (previous !== null && previous >= last) continue;
      const pending = previous === null ? events : events.filter((e) => e.position > previous);
      const pendingDomain = previous === null ? domain : domain.filter((e) => e.position > previous);
      if (!batch.isolate) {
        concurrent.push(projection.apply(queue, batch.schema ?? 'public', pending, pendingDomain));
        applied = Math.max(applied, pending.length);
        continue;
      }
      const refused = await applyIsolated(client, () =>
        projection.apply(client, batch.schema ?? 'public', pending, pendingDomain),
      );
      if (refused === null) applied = Math.max(applied, pending.length);
      else
        for (const r of batch.recorded)
          if (previous === null || r.position > previous)
            quarantined.push(quarantineEntry(projection.name, r, refused));
    }
    await settleConcurrent(concurrent);
    await recordQuarantine(client, quarantined);
    await batch.beforeCheckpoint?.();
    const moving = batch.projections
      .map((p) => ({ name: p.name, previous: batch.checkpoints.get(p.name) ?? null }))
      .filter((c) => c.previous === null || c.previous < last);
    await storeCheckpoints(client, moving, last);
    for (const c of moving) next.set(c.name, last);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return { checkpoints: next, applied, skipped, quarantined };
}

/**
 * Moves the projections' checkpoints from their previous positions to `to` (compare-and-set, like
 * storeCheckpoint) and signals projectionsChannel, in one statement. Throws StaleCheckpointError when any
 * checkpoint moved meanwhile (another owner).
 */
async function storeCheckpoints(
  client: pg.ClientBase,
  moving: readonly { name: string; previous: string | null }[],
  to: string,
) {
  const ids = moving.map((c) => checkpointId(c.name));
  const { rows } = await client.query<{ stored: string[] }>(
    `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[]) AS i(subscription_id, previous)),
     moved AS (
       UPDATE subscription_checkpoints c SET position = $3, updated_at = now() FROM input i
        WHERE i.previous IS NOT NULL AND c.subscription_id = i.subscription_id AND c.position = i.previous
          AND $3 > c.position
       RETURNING c.subscription_id),
     created AS (
       INSERT INTO subscription_checkpoints (subscription_id, position)
       SELECT subscription_id, $3 FROM input WHERE previous IS NULL
       ON CONFLICT (subscription_id) DO NOTHING RETURNING subscription_id)
     SELECT array(SELECT subscription_id FROM moved UNION ALL SELECT subscription_id FROM created) AS stored,
            pg_notify($4, $3)`,
    [ids, moving.map((c) => c.previous), to, projectionsChannel],
  );
  const stored = new Set(rows[0]?.stored ?? []);
  const stale = moving.find((c) => !stored.has(checkpointId(c.name)));
  if (stale) throw new StaleCheckpointError(checkpointId(stale.name), stale.previous);
}

export type BatchOutcome = Awaited<ReturnType<typeof applyBatchWithCheckpoints>>;

/**
 * `applyBatchWithCheckpoints`, except that a batch refused for a non-transient reason is split until the
 * single refused event is found, which is quarantined (see quarantine.ts) while everything else applies.
 */
export async function applyBatchQuarantiningPoison(client: pg.ClientBase, batch: CheckpointedBatch) {
  let checkpoints: ReadonlyMap<string, string | null> = batch.checkpoints;
  const total: BatchOutcome = { checkpoints: new Map(checkpoints), applied: 0, skipped: [], quarantined: [] };
  await splitOnPoison(batch.recorded, async (recorded, isolate) => {
    const parsed = recorded === batch.recorded ? batch.parsed : undefined;
    const outcome = await applyBatchWithCheckpoints(client, { ...batch, checkpoints, recorded, isolate, parsed });
    checkpoints = outcome.checkpoints;
    total.applied += outcome.applied;
    total.skipped.push(...outcome.skipped);
    total.quarantined.push(...outcome.quarantined);
  });
  return { ...total, checkpoints: new Map(checkpoints) };
}
