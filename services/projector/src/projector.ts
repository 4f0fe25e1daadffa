// The projector: one active owner per projection set (PostgreSQL advisory locks held on a dedicated
// connection; a second projector waits and takes over when the first one's connection dies), reading the
// log in order from the projections' checkpoints and applying each batch with its checkpoints in one
// transaction (applyBatchWithCheckpoints).
import type { EventStore, RecordedEvent, Subscription } from '@hatch/event-store';
import { loadCheckpoint, StaleCheckpointError } from '@hatch/event-store';
import { type Logger, recordEventSpans, withSpan } from '@hatch/platform';
import {
  applyBatchQuarantiningPoison,
  checkpointId,
  type ParsedBatch,
  type Projection,
  parseBatch,
  type QuarantinedEvent,
} from '@hatch/projections';
import pg from 'pg';
import type { z } from 'zod';
import type { parallelModeSchema } from './config.ts';

export interface BatchApplied {
  events: number;
  applied: number;
  skipped: number;
  /** Events a projection refused for a non-transient reason, recorded in projection_quarantine. */
  quarantined: number;
  firstPosition: string;
  lastPosition: string;
  lastRecordedAt: string;
  seconds: number;
}

export interface ProjectorOptions {
  /** Connections for the batch transactions. */
  pool: pg.Pool;
  /** Connection string for the dedicated lock connection. */
  databaseUrl: string;
  store: EventStore;
  projections: readonly Projection[];
  logger: Logger;
  batchSize?: number;
  /** How often a waiting projector tries to take the locks (default 500 ms). */
  lockRetryMs?: number;
  onBatch?: (batch: BatchApplied) => void;
  onOwnership?: (owner: boolean) => void;
  onQuarantine?: (events: readonly QuarantinedEvent[]) => void;
  /**
   * When the projections apply concurrently, each in its own transaction on its own connection (see
   * `ParallelMode`; default 'catching-up').
   */
  parallel?: ParallelMode;
  /** Test seam, see CheckpointedBatch.beforeCheckpoint. */
  beforeCheckpoint?: () => Promise<void> | void;
}

/**
 * 'never': one transaction holds every projection's rows and checkpoints, so the read tables always sit at
 * one position. 'always': each projection commits its rows with its own checkpoint; the tables may sit at
 * different positions for a moment. 'catching-up': in parallel only while the log is ahead (a full batch),
 * one transaction once caught up. Either way each projection applies each event exactly once, and reads
 * that promise a position wait for the lowest checkpoint of every read-model projection (the query API's
 * watermark), so no table a read depends on is behind the position it reports.
 */
export type ParallelMode = z.infer<typeof parallelModeSchema>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Projector {
  private running = false;
  private loop: Promise<void> | null = null;
  private lockClient: pg.Client | null = null;
  private subscription: Subscription | null = null;
  private wake: (() => void) | null = null;
  private owner = false;
  private checkpoints = new Map<string, string | null>();
  /** Batches this instance committed (tests: which of two projectors did the work). */
  batchesApplied = 0;
  eventsApplied = 0;

  constructor(private readonly options: ProjectorOptions) {}

  private get batchSize() {
    return this.options.batchSize ?? 1000;
  }

  get isOwner() {
    return this.owner;
  }

  /** The lowest checkpoint of the projection set (null: nothing applied yet). */
  get position(): string | null {
    let min: string | null = null;
    for (const name of this.options.projections.map((p) => p.name)) {
      const c = this.checkpoints.get(name) ?? null;
      if (c === null) return null;
      if (min === null || c < min) min = c;
    }
    return min;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop() {
    this.running = false;
    this.wake?.();
    await this.subscription?.stop();
    await this.loop;
    this.loop = null;
  }

  private lockKeys() {
    return this.options.projections.map((p) => checkpointId(p.name));
  }

  private async run() {
    while (this.running) {
      try {
        if (!(await this.acquire())) {
          await this.pause(this.options.lockRetryMs ?? 500);
          continue;
        }
        await this.project();
      } catch (error) {
        if (this.running) this.options.logger.error({ err: error }, 'projector loop failed; retrying');
        await this.pause(500);
      } finally {
        await this.release();
      }
    }
  }

  private pause(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Takes every lock of the set on a dedicated connection, or none. */
  private async acquire(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('error', () => this.lostOwnership('lock connection lost'));
    await client.connect();
    const { rows } = await client.query<{ locked: boolean[] }>(
      `SELECT array_agg(pg_try_advisory_lock(hashtextextended(k, 0)) ORDER BY ord) AS locked
         FROM unnest($1::text[]) WITH ORDINALITY AS t(k, ord)`,
      [this.lockKeys()],
    );
    if (!rows[0]?.locked.every(Boolean)) {
      await client.end().catch(() => {});
      return false;
    }
    this.lockClient = client;
    this.owner = true;
    this.options.onOwnership?.(true);
    this.options.logger.info({ projections: this.lockKeys() }, 'projector owns its projections');
    return true;
  }

  private async release() {
    const client = this.lockClient;
    this.lockClient = null;
    if (this.owner) {
      this.owner = false;
      this.options.onOwnership?.(false);
    }
    // Closing the session releases its advisory locks.
    await client?.end().catch(() => {});
  }

  private lostOwnership(reason: string) {
    if (!this.owner) return;
    this.options.logger.warn({ reason }, 'projector lost ownership; waiting to take it again');
    this.owner = false;
    void this.subscription?.stop();
  }

  private async project() {
    const { pool, store, projections } = this.options;
    while (this.running && this.owner) {
      this.checkpoints = new Map();
      for (const p of projections) this.checkpoints.set(p.name, await loadCheckpoint(pool, checkpointId(p.name)));
      // Pipelined while catching up: the subscription reads batch N+1 while batch N is applied. Batches still commit one after
      // the other; after a failed batch the subscription restarts from the stored checkpoints.
      let inflight: Promise<void> = Promise.resolve();
      let failed: unknown = null;
      const subscription: Subscription = store.subscribe({
        after: this.position,
        batchSize: this.batchSize,
        handler: async (events) => {
          // Parsing (zod, per event) while the previous batch's statements run: it needs no database.
          const parsed = parseBatch(events);
          await inflight;
          if (failed !== null || !this.owner) return;
          inflight = this.applyBatch(events, parsed).catch((error: unknown) => {
            failed = error;
            void subscription.stop();
          });
          // Caught up (a short batch): finish it before the next read, which then takes everything appended
          // meanwhile; a read ahead would hold only what arrived before this batch and queue behind it (lag).
          if (events.length < this.batchSize) await inflight;
        },
        onError: (error) => this.options.logger.error({ err: error }, 'reading the log failed; retrying'),
      });
      this.subscription = subscription;
      // A lock session that silently died would leave two owners: probe it, and stop when it is gone.
      const probe = setInterval(() => {
        this.lockClient?.query('SELECT 1').catch(() => this.lostOwnership('lock connection lost'));
      }, 2000);
      try {
        await subscription.done;
        await inflight;
      } finally {
        clearInterval(probe);
        this.subscription = null;
      }
      if (failed === null) return;
      if (failed instanceof StaleCheckpointError) {
        this.lostOwnership(failed.message);
        return;
      }
      this.options.logger.error({ err: failed }, 'projection batch failed; retrying from the checkpoints');
      await this.pause(200);
    }
  }

  /** A batch is one span of its own; each traced event gets a span in its request's trace, linked to it. */
  private applyBatch(events: RecordedEvent[], parsed: ParsedBatch) {
    const started = Date.now();
    return withSpan(
      'project batch',
      { parent: null, attributes: { 'hatch.batch.events': events.length } },
      async () => {
        await this.applyBatchUntraced(events, parsed);
        recordEventSpans('project', events, started);
      },
    );
  }

  private async applyBatchUntraced(events: RecordedEvent[], parsed: ParsedBatch) {
    if (!this.owner) throw new Error('not the owner');
    const started = performance.now();
    const mode = this.options.parallel ?? 'catching-up';
    const parallel = mode === 'always' || (mode === 'catching-up' && events.length >= this.batchSize);
    const groups = parallel ? this.options.projections.map((p) => [p]) : [this.options.projections];
    const outcomes = await Promise.allSettled(
      groups.map(async (projections) => {
        const client = await this.options.pool.connect();
        // pg leaves a checked-out client without an 'error' listener: a server crash between two queries
        // would be an unhandled error that kills the process (found by bin/soak). The failed query says it.
        const ignore = () => {};
        client.on('error', ignore);
        try {
          return await applyBatchQuarantiningPoison(client, {
            projections,
            checkpoints: this.checkpoints,
            recorded: events,
            parsed,
            ...(this.options.beforeCheckpoint ? { beforeCheckpoint: this.options.beforeCheckpoint } : {}),
          });
        } finally {
          client.off('error', ignore);
          client.release();
        }
      }),
    );
    const next = new Map(this.checkpoints);
    let skipped = 0;
    let applied = 0;
    const quarantined: QuarantinedEvent[] = [];
    let failure: unknown = null;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        failure ??= outcome.reason;
        return;
      }
      for (const p of groups[i] ?? []) next.set(p.name, outcome.value.checkpoints.get(p.name) ?? null);
      skipped = outcome.value.skipped.length;
      applied = Math.max(applied, outcome.value.applied);
      quarantined.push(...outcome.value.quarantined);
    });
    if (quarantined.length > 0) {
      // Committed: the checkpoints are past them already, whatever happens next.
      for (const q of quarantined) this.options.logger.error({ quarantined: q }, 'event quarantined by a projection');
      this.options.onQuarantine?.(quarantined);
    }
    // Projections that committed keep their new checkpoint; a failed one retries the batch from its own.
    this.checkpoints = next;
    if (failure) throw failure;
    this.batchesApplied++;
    this.eventsApplied += events.length;
    const last = events.at(-1) as RecordedEvent;
    this.options.onBatch?.({
      events: events.length,
      applied,
      skipped,
      quarantined: quarantined.length,
      firstPosition: (events[0] as RecordedEvent).position,
      lastPosition: last.position,
      lastRecordedAt: last.recordedAt,
      seconds: (performance.now() - started) / 1000,
    });
  }
}

/** Resolves once every projection of the set has a checkpoint at or past `position` (tests, bench). */
export async function waitForCheckpoints(
  db: pg.Pool | pg.Client,
  projections: readonly Projection[],
  position: string,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ position: string }>(
      'SELECT position FROM subscription_checkpoints WHERE subscription_id = ANY($1)',
      [projections.map((p) => checkpointId(p.name))],
    );
    if (rows.length === projections.length && rows.every((r) => r.position >= position)) return;
    if (Date.now() > deadline) throw new Error(`projections did not reach ${position} in ${timeoutMs} ms`);
    await sleep(20);
  }
}
