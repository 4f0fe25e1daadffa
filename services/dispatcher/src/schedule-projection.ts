// Keeps dispatch_schedule in step with the `message` category of the log. Each batch's schedule
// changes and the checkpoint commit together, so a restart resumes exactly where it stopped and
// retries due later than the checkpoint are still in the table.
import { scheduleChanges } from '@hatch/dispatch';
import { type EventStore, loadCheckpoint, type RecordedEvent, storeCheckpoint } from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import type pg from 'pg';
import { applyScheduleChanges } from './schedule-store.ts';

export interface ScheduleProjection {
  readonly healthy: boolean;
  stop(): Promise<void>;
}

export function startScheduleProjection(options: {
  store: EventStore;
  pool: pg.Pool;
  subscriptionId: string;
  batchSize: number;
  log: Logger;
  leaseMs: number;
  /** How many fresh requests the caller can dispatch right now (they skip the claim round trip). */
  freeSlots: () => number;
  /** After each committed batch: the fresh requests leased to this process, and how many others fell due. */
  onApplied: (leased: RecordedEvent[], waiting: number) => void;
  now?: () => number;
}): ScheduleProjection {
  const now = options.now ?? Date.now;
  const { store, pool, subscriptionId, log } = options;
  let running = true;
  let healthy = false;
  let current: { stop(): Promise<void> } | null = null;

  const handler = (state: { previous: string | null }) => async (events: RecordedEvent[]) => {
    const last = events.at(-1)!.position;
    const changes = scheduleChanges(events);
    const at = now();
    const fresh = new Map<string, RecordedEvent>();
    let slots = options.freeSlots();
    for (const change of changes) {
      if (slots <= 0) break;
      if (change.kind === 'due' && change.request && change.dueAtMs <= at) {
        fresh.set(change.messageId, change.request);
        slots--;
      }
    }
    let leased = new Set<string>();
    const client = await pool.connect();
    // pg leaves a checked-out client without an 'error' listener: a server crash between two queries
    // would be an unhandled error that kills the process (found by bin/soak). The failed query says it.
    const ignore = () => {};
    client.on('error', ignore);
    try {
      // The schedule and its checkpoint are derived from the log and commit together: a commit lost
      // in a crash loses both and the batch is simply applied again, so it need not wait for fsync.
      await client.query('BEGIN');
      await client.query('SET LOCAL synchronous_commit = off');
      leased = await applyScheduleChanges(client, changes, {
        ids: new Set(fresh.keys()),
        untilMs: at + options.leaseMs,
      });
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
    const waiting = changes.filter((c) => c.kind === 'due' && !leased.has(c.messageId) && c.dueAtMs <= at).length;
    options.onApplied(
      [...leased].map((id) => fresh.get(id)!),
      waiting,
    );
  };

  // Supervisor: a failed batch (database down, another owner moved the checkpoint) stops the
  // subscription; start again from the stored checkpoint after a pause.
  const done = (async () => {
    while (running) {
      try {
        const state = { previous: await loadCheckpoint(pool, subscriptionId) };
        const subscription = store.subscribe({
          after: state.previous,
          category: 'message',
          batchSize: options.batchSize,
          handler: handler(state),
        });
        current = subscription;
        healthy = true;
        await subscription.done;
      } catch (error) {
        healthy = false;
        if (running) log.error({ err: error }, 'schedule projection stopped; restarting from checkpoint');
      }
      if (running) await new Promise((r) => setTimeout(r, 500));
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
