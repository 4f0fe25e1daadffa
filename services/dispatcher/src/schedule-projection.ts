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
  /** After each committed batch (wakes the claim loop). */
  onApplied: (events: RecordedEvent[]) => void;
}): ScheduleProjection {
  const { store, pool, subscriptionId, log } = options;
  let running = true;
  let healthy = false;
  let current: { stop(): Promise<void> } | null = null;

  const handler = (state: { previous: string | null }) => async (events: RecordedEvent[]) => {
    const last = events.at(-1)!.position;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await applyScheduleChanges(client, scheduleChanges(events));
      await storeCheckpoint(client, subscriptionId, last, state.previous);
      await client.query('COMMIT');
      state.previous = last;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    options.onApplied(events);
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
