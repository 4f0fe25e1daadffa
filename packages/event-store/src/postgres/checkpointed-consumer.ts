// A log consumer whose derived rows commit with its checkpoint: each batch runs `apply` in one PostgreSQL
// transaction that also moves the checkpoint (compare-and-set), so a crash at any instant either keeps the
// batch and its checkpoint or neither, and the consumer resumes exactly where it stopped. A failed batch
// (database away, another owner moved the checkpoint) stops the subscription; it starts again from the
// stored checkpoint after a pause. The dispatcher's schedule projection follows the same pattern.
import type pg from 'pg';
import type { EventStore, RecordedEvent } from '../event-store.ts';
import { loadCheckpoint, storeCheckpoint } from './checkpoints.ts';
import {
  isPoisonError,
  type QuarantinedEvent,
  quarantineEntry,
  recordQuarantine,
  splitOnPoison,
} from './quarantine.ts';

export interface CheckpointedConsumerOptions<Applied = void> {
  store: EventStore;
  pool: pg.Pool;
  subscriptionId: string;
  /** Only this stream category (omit: every event). */
  category?: string;
  batchSize: number;
  /** Runs inside the batch's transaction (it may `SET LOCAL` what the batch needs). */
  apply: (client: pg.PoolClient, events: RecordedEvent[]) => Promise<Applied>;
  /** After each committed batch (outside the transaction), with what `apply` returned. */
  onCommitted?: (applied: Applied, events: RecordedEvent[]) => void;
  onError: (error: unknown) => void;
  restartDelayMs?: number;
  /**
   * The consumer's name in `projection_quarantine`. Set: a batch refused for a non-transient reason is split
   * until the refused event is found, which is recorded there and skipped (the checkpoint moves past it), so
   * one poison event never stops the consumer. Unset: such a batch is retried like any failure.
   */
  quarantineAs?: string;
  /** After quarantined events committed (metrics, logs). */
  onQuarantined?: (entries: QuarantinedEvent[]) => void;
}

export interface CheckpointedConsumer {
  /** Subscribed and applying (false while restarting after a failure). */
  readonly healthy: boolean;
  stop(): Promise<void>;
}

export function startCheckpointedConsumer<Applied = void>(
  options: CheckpointedConsumerOptions<Applied>,
): CheckpointedConsumer {
  const { store, pool, subscriptionId } = options;
  let running = true;
  let healthy = false;
  let current: { stop(): Promise<void> } | null = null;

  /** One transaction: `apply` (or, with `isolate`, `apply` in a savepoint that quarantines a refusal), checkpoint. */
  const applySlice = async (state: { previous: string | null }, events: readonly RecordedEvent[], isolate: boolean) => {
    const last = events.at(-1)?.position;
    if (!last) return;
    const client = await pool.connect();
    // A checked-out client has no 'error' listener: a server crash between queries would kill the process.
    const ignore = () => {};
    client.on('error', ignore);
    let outcome: { applied: Applied } | { quarantined: QuarantinedEvent[] };
    try {
      await client.query('BEGIN');
      if (!isolate) outcome = { applied: await options.apply(client, [...events]) };
      else {
        await client.query('SAVEPOINT poison_check');
        try {
          outcome = { applied: await options.apply(client, [...events]) };
          await client.query('RELEASE SAVEPOINT poison_check');
        } catch (error) {
          if (!isPoisonError(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT poison_check');
          const entries = events.map((e) => quarantineEntry(options.quarantineAs as string, e, error));
          await recordQuarantine(client, entries);
          outcome = { quarantined: entries };
        }
      }
      await storeCheckpoint(client, subscriptionId, last, state.previous);
      await client.query('COMMIT');
      state.previous = last;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.off('error', ignore);
      client.release();
    }
    if ('applied' in outcome) options.onCommitted?.(outcome.applied, [...events]);
    else options.onQuarantined?.(outcome.quarantined);
  };

  const applyBatch = async (state: { previous: string | null }, events: RecordedEvent[]) => {
    if (!options.quarantineAs) return applySlice(state, events, false);
    await splitOnPoison(events, (slice, isolate) => applySlice(state, slice, isolate));
  };

  const done = (async () => {
    while (running) {
      try {
        const state = { previous: await loadCheckpoint(pool, subscriptionId) };
        const subscription = store.subscribe({
          after: state.previous,
          ...(options.category ? { category: options.category } : {}),
          batchSize: options.batchSize,
          handler: (events) => applyBatch(state, events),
          // No onError here: a failed batch must end the subscription so that the loop below reloads the
          // stored checkpoint. Retrying in place would keep an in-memory checkpoint the database may not
          // have (an async commit lost in a crash), and every later compare-and-set would fail forever.
        });
        current = subscription;
        healthy = true;
        await subscription.done;
      } catch (error) {
        if (running) options.onError(error);
      }
      healthy = false;
      if (running) await new Promise((r) => setTimeout(r, options.restartDelayMs ?? 500));
    }
  })();

  return {
    get healthy() {
      return healthy && running;
    },
    async stop() {
      running = false;
      await current?.stop();
      await done;
    },
  };
}
