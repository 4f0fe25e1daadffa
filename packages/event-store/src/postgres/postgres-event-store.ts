// PostgreSQL adapter of the event log (the embedded default).
//
// Ordering: a position is assigned at insert but becomes visible at commit, so readers order by
// (transaction_id, position) and only read rows whose transaction is older than every transaction
// still running (pg_snapshot_xmin). A slow writer therefore holds readers back instead of being skipped.
//
// Group commit: appends that arrive while a flush is in flight are written together by one call of
// hatch_append_events (one round trip, one commit, one fsync). Each append keeps its own expected-version
// check and is acknowledged only after the commit that holds it.
import pg from 'pg';
import {
  AppendNotWrittenError,
  type AppendOptions,
  AppendOutcomeUnknownError,
  type AppendResult,
  EventIdConflictError,
  type EventStore,
  type ExpectedVersion,
  type LogPosition,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  WrongExpectedVersionError,
} from '../event-store.ts';
import { formatPosition, parsePosition } from './log-position.ts';
import { type PoolTimeouts, poolTimeouts, type SnapshotGateStats } from './pool-timeouts.ts';

export interface PostgresEventStoreOptions {
  connectionString: string;
  /** Connections that write batches concurrently (default 1: one batch in flight gathers the most per commit). */
  appendConnections?: number;
  /** Most appends written in one batch (default 1000). */
  maxBatchSize?: number;
  /** Connections for reads (default 4). */
  readConnections?: number;
  /** Fallback poll interval of subscriptions when no notification arrives (default 1000 ms). */
  pollIntervalMs?: number;
  /** Most appends waiting for a write; beyond it appends are refused at once (default 10,000). */
  maxPendingAppends?: number;
  /** Session limits of every connection (see poolTimeouts). */
  timeouts?: PoolTimeouts;
}

interface PendingAppend {
  streamId: string;
  events: NewEvent[];
  expectedVersion: ExpectedVersion;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
  /** Set once its first write began: from then on it cannot be withdrawn. */
  writing?: boolean;
  /** A write that held it lost its connection: its outcome is unknown unless a later write settles it. */
  unknown?: unknown;
}

interface AppendRow {
  append_index: number;
  outcome: 'appended' | 'duplicate' | 'conflict' | 'id_conflict';
  stream_version: string | null;
  transaction_id: string | null;
  last_position: string | null;
}

interface EventRow {
  transaction_id: string;
  position: string;
  stream_id: string;
  stream_version: string;
  event_id: string;
  event_type: string;
  data: unknown;
  metadata: RecordedEvent['metadata'];
  recorded_at: Date;
}

const notifyChannel = 'hatch_events';
// The select list renames transaction_id to text: ORDER BY must name the table's column (events.transaction_id),
// or it sorts the text and puts xid 1000 before xid 999.
const eventColumns =
  'transaction_id::text AS transaction_id, position, stream_id, stream_version, event_id, event_type, data, metadata, recorded_at';

const encodeExpected = (expected: ExpectedVersion): number => {
  if (expected === 'no_stream') return -1;
  if (expected === 'any') return -2;
  if (expected === 'stream_exists') return -3;
  if (!Number.isInteger(expected) || expected < 0) throw new RangeError(`invalid expected version ${expected}`);
  return expected;
};

const toRecorded = (row: EventRow): RecordedEvent => ({
  id: row.event_id,
  type: row.event_type,
  data: row.data,
  metadata: row.metadata,
  streamId: row.stream_id,
  streamVersion: Number(row.stream_version),
  position: formatPosition(row.transaction_id, row.position),
  recordedAt: row.recorded_at.toISOString(),
});

const isDecision = (error: unknown) =>
  error instanceof WrongExpectedVersionError || error instanceof EventIdConflictError;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class PostgresEventStore implements EventStore {
  private readonly writePool: pg.Pool;
  private readonly readPool: pg.Pool;
  private readonly maxBatchSize: number;
  private readonly appendConnections: number;
  private readonly pollIntervalMs: number;
  private readonly maxPendingAppends: number;
  private pending: PendingAppend[] = [];
  /** Start of each subscription's current hold behind the snapshot gate. */
  private readonly gateHolds = new Set<{ since: number }>();
  private gateHeldMs = 0;
  private activeFlushes = 0;
  private listener: pg.Client | null = null;
  private listenerReady: Promise<void> | null = null;
  private readonly wakeups = new Set<() => void>();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: PostgresEventStoreOptions) {
    this.appendConnections = options.appendConnections ?? 1;
    this.maxBatchSize = options.maxBatchSize ?? 1000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxPendingAppends = options.maxPendingAppends ?? 10_000;
    const timeouts = poolTimeouts(options.timeouts);
    this.writePool = new pg.Pool({
      connectionString: options.connectionString,
      max: this.appendConnections,
      ...timeouts,
    });
    this.readPool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.readConnections ?? 4,
      ...timeouts,
    });
    // A server restart kills idle pooled connections; the pool replaces them on next use.
    this.writePool.on('error', () => {});
    this.readPool.on('error', () => {});
  }

  append(
    streamId: string,
    events: NewEvent[],
    expectedVersion: ExpectedVersion = 'any',
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    if (events.length === 0) return Promise.reject(new RangeError('append needs at least one event'));
    try {
      encodeExpected(expectedVersion);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AppendNotWrittenError(streamId, 'withdrawn'));
    if (this.pending.length >= this.maxPendingAppends)
      return Promise.reject(new AppendNotWrittenError(streamId, 'queue_full'));
    return new Promise<AppendResult>((resolve, reject) => {
      const item: PendingAppend = { streamId, events, expectedVersion, resolve, reject };
      // Withdrawn only while it waits: once a write holds it, it runs to its outcome.
      const withdraw = () => {
        const index = this.pending.indexOf(item);
        if (item.writing || index < 0) return;
        this.pending.splice(index, 1);
        reject(new AppendNotWrittenError(streamId, 'withdrawn'));
      };
      signal?.addEventListener('abort', withdraw, { once: true });
      const settle = () => signal?.removeEventListener('abort', withdraw);
      item.resolve = (result) => {
        settle();
        resolve(result);
      };
      item.reject = (error) => {
        settle();
        reject(error);
      };
      this.pending.push(item);
      this.scheduleFlush();
    });
  }

  /** How many appends wait for a write (the bounded queue). */
  get pendingAppends() {
    return this.pending.length;
  }

  /** See SnapshotGateStats. */
  snapshotGateStats(): SnapshotGateStats {
    const now = performance.now();
    let longest = 0;
    let current = 0;
    for (const hold of this.gateHolds) {
      longest = Math.max(longest, now - hold.since);
      current += now - hold.since;
    }
    return { heldSeconds: longest / 1000, totalHeldSeconds: (this.gateHeldMs + current) / 1000 };
  }

  private scheduleFlush() {
    while (this.activeFlushes < this.appendConnections && this.pending.length > 0) {
      this.activeFlushes++;
      void this.flush().finally(() => {
        this.activeFlushes--;
        this.scheduleFlush();
      });
    }
  }

  /** Takes pending appends for one batch: at most one per stream so appends to a stream keep their order. */
  private takeBatch(): PendingAppend[] {
    const batch: PendingAppend[] = [];
    const rest: PendingAppend[] = [];
    const streams = new Set<string>();
    for (const item of this.pending) {
      if (batch.length < this.maxBatchSize && !streams.has(item.streamId)) {
        streams.add(item.streamId);
        batch.push(item);
      } else {
        rest.push(item);
      }
    }
    this.pending = rest;
    return batch;
  }

  private async flush() {
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    for (const item of batch) item.writing = true;
    try {
      await this.writeBatch(batch);
    } catch (error) {
      if (batch.length === 1 && !(error instanceof AppendOutcomeUnknownError)) {
        batch[0]?.reject(error);
        return;
      }
      // One bad append (e.g. an event id reused across streams) must not fail its neighbours: write them one
      // by one so only the culprit gets the error. After a lost connection this is also what settles the
      // unknown outcome: event ids are idempotent, so one that did commit comes back as a duplicate.
      for (const item of batch) {
        await this.writeBatch([item]).catch((e: unknown) =>
          item.reject(item.unknown && !isDecision(e) ? item.unknown : e),
        );
      }
    }
  }

  private async writeBatch(batch: PendingAppend[]) {
    // Connecting fails before anything is sent (nothing written); a connection lost once the call was sent
    // leaves the outcome unknown. An error PostgreSQL answered (it has a SQLSTATE) rolled the call back.
    const client = await this.writePool.connect();
    // A checked-out client has no 'error' listener of the pool's: a dying connection must not crash us.
    const ignore = () => {};
    client.on('error', ignore);
    let broken: unknown;
    try {
      return await this.writeBatchOn(client, batch);
    } catch (error) {
      const answered = typeof (error as { code?: unknown }).code === 'string';
      if (answered || isDecision(error)) throw error;
      broken = error;
      for (const item of batch) item.unknown ??= new AppendOutcomeUnknownError(item.streamId, error);
      throw new AppendOutcomeUnknownError(batch[0]?.streamId ?? '', error);
    } finally {
      client.off('error', ignore);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  private async writeBatchOn(client: pg.PoolClient, batch: PendingAppend[]) {
    const payload = JSON.stringify(
      batch.map((item) => ({
        stream: item.streamId,
        expected: encodeExpected(item.expectedVersion),
        events: item.events.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })),
      })),
    );
    const { rows } = await client.query<AppendRow>({
      name: 'hatch_append_events',
      text: 'SELECT * FROM hatch_append_events($1::jsonb)',
      values: [payload],
    });
    for (const row of rows) {
      const item = batch[row.append_index];
      if (!item) continue;
      if (row.outcome === 'id_conflict') {
        item.reject(new EventIdConflictError(item.streamId));
        continue;
      }
      if (
        row.outcome === 'conflict' &&
        (item.expectedVersion === 'any' || item.expectedVersion === 'stream_exists') &&
        row.stream_version !== null
      ) {
        // Lost a race for the next version to a concurrent writer: 'any' just goes again.
        item.writing = false;
        this.pending.push(item);
        this.scheduleFlush();
        continue;
      }
      if (row.outcome === 'conflict') {
        const actual = row.stream_version === null ? null : Number(row.stream_version);
        item.reject(new WrongExpectedVersionError(item.streamId, item.expectedVersion, actual));
        continue;
      }
      item.resolve({
        nextExpectedVersion: Number(row.stream_version),
        position: formatPosition(row.transaction_id as string, row.last_position as string),
        duplicate: row.outcome === 'duplicate',
      });
    }
  }

  async readStream(streamId: string, options: { fromVersion?: number; maxCount?: number } = {}) {
    const { rows } = await this.readPool.query<EventRow>(
      `SELECT ${eventColumns} FROM events WHERE stream_id = $1 AND stream_version >= $2
        ORDER BY stream_version LIMIT $3`,
      [streamId, options.fromVersion ?? 0, options.maxCount ?? 1_000_000],
    );
    return rows.map(toRecorded);
  }

  async readStreams(streamIds: string[]) {
    const byStream = new Map<string, RecordedEvent[]>(streamIds.map((id) => [id, []]));
    if (byStream.size === 0) return byStream;
    const { rows } = await this.readPool.query<EventRow>(
      `SELECT ${eventColumns} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version`,
      [[...byStream.keys()]],
    );
    for (const row of rows) byStream.get(row.stream_id)?.push(toRecorded(row));
    return byStream;
  }

  async readAll(options: ReadAllOptions = {}) {
    const after = options.after ? parsePosition(options.after) : { transactionId: '0', position: '0' };
    const values: unknown[] = [after.transactionId, after.position, options.limit ?? 1000];
    let categoryFilter = '';
    if (options.category) {
      values.push(options.category);
      categoryFilter = 'AND category = $4';
    }
    const { rows } = await this.readPool.query<EventRow>(
      `SELECT ${eventColumns} FROM events
        WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ${categoryFilter}
        ORDER BY events.transaction_id, events.position
        LIMIT $3`,
      values,
    );
    return rows.map(toRecorded);
  }

  /** Events in the log (committed); for progress reports of long reads such as audit rebuilds. */
  async countEvents(): Promise<number> {
    const { rows } = await this.readPool.query<{ n: string }>('SELECT count(*)::bigint AS n FROM events');
    return Number(rows[0]?.n ?? 0);
  }

  /** Committed events past `after` that the snapshot gate still holds back (an older writer is running). */
  private async hasGatedEvents(after: LogPosition | null): Promise<boolean> {
    const from = after ? parsePosition(after) : { transactionId: '0', position: '0' };
    const { rows } = await this.readPool.query<{ gated: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)) AS gated',
      [from.transactionId, from.position],
    );
    return rows[0]?.gated ?? false;
  }

  async headPosition(): Promise<LogPosition | null> {
    const { rows } = await this.readPool.query<{ transaction_id: string; position: string }>(
      `SELECT transaction_id::text AS transaction_id, position FROM events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1`,
    );
    return rows[0] ? formatPosition(rows[0].transaction_id, rows[0].position) : null;
  }

  private ensureListener(): Promise<void> {
    if (this.listenerReady) return this.listenerReady;
    const connect = async () => {
      const client = new pg.Client({
        connectionString: (this.readPool.options as { connectionString: string }).connectionString,
      });
      client.on('notification', () => this.wakeAll());
      client.on('error', () => {
        // Lost the LISTEN connection: polling keeps subscriptions going; reconnect on next wait.
        this.listener = null;
        this.listenerReady = null;
        client.end().catch(() => {});
      });
      await client.connect();
      await client.query(`LISTEN ${notifyChannel}`);
      this.listener = client;
    };
    this.listenerReady = connect().catch(() => {
      this.listenerReady = null;
    });
    return this.listenerReady;
  }

  private wakeAll() {
    for (const wake of [...this.wakeups]) wake();
  }

  private waitForWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeups.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeups.add(done);
    });
  }

  subscribe(options: SubscribeOptions): Subscription {
    const batchSize = options.batchSize ?? 500;
    let position: LogPosition | null = options.after ?? null;
    let running = true;
    let hold: { since: number } | null = null;
    const releaseHold = () => {
      if (!hold) return;
      this.gateHeldMs += performance.now() - hold.since;
      this.gateHolds.delete(hold);
      hold = null;
    };
    const run = async () => {
      let gatedBackoff = 2;
      while (running) {
        try {
          await this.ensureListener();
          const events = await this.readAll({ after: position, category: options.category, limit: batchSize });
          if (events.length > 0) {
            releaseHold();
            await options.handler(events);
            position = (events.at(-1) as RecordedEvent).position;
            gatedBackoff = 2;
            continue;
          }
          if (await this.hasGatedEvents(position)) {
            // An older transaction is still open; re-check soon rather than waiting for a notification.
            if (!hold) {
              hold = { since: performance.now() };
              this.gateHolds.add(hold);
            }
            await sleep(gatedBackoff);
            gatedBackoff = Math.min(gatedBackoff * 2, 100);
            continue;
          }
          gatedBackoff = 2;
          releaseHold();
          await this.waitForWake(this.pollIntervalMs);
        } catch (error) {
          if (!running) break;
          if (options.onError) options.onError(error);
          else throw error;
          await sleep(Math.min(this.pollIntervalMs, 500));
        }
      }
    };
    const subscription: Subscription = {
      get position() {
        return position;
      },
      done: Promise.resolve(),
      stop: async () => {
        running = false;
        this.wakeAll();
        await done.catch(() => {});
      },
    };
    const done = run().finally(() => {
      running = false;
      releaseHold();
      this.subscriptions.delete(subscription);
    });
    // A handler error stops the subscription and rejects `done`; never an unhandled rejection.
    done.catch(() => {});
    Object.defineProperty(subscription, 'done', { value: done });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    while (this.activeFlushes > 0 || this.pending.length > 0) await sleep(5);
    await this.listener?.end().catch(() => {});
    await Promise.all([this.writePool.end(), this.readPool.end()]);
  }
}
