// Keeps dispatch_schedule in step with the `message` category of the log. Each batch's schedule
// changes and the checkpoint commit together, so a restart resumes exactly where it stopped and
// retries due later than the checkpoint are still in the table.
import { scheduleChanges } from '@hatch/dispatch';
import {
  type EventStore,
  type QuarantinedEvent,
  type RecordedEvent,
  startCheckpointedConsumer,
} from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import type pg from 'pg';
import { applyScheduleChanges } from './schedule-store.ts';

/** The schedule's name in projection_quarantine. */
export const scheduleQuarantineName = 'dispatch-schedule';

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
  /**
   * After each committed batch: the fresh requests leased to this process (until `leasedUntilMs`, the exact
   * value written), and how many others fell due.
   */
  onApplied: (leased: RecordedEvent[], waiting: number, leasedUntilMs: number) => void;
  /** Events the schedule could not take (recorded in projection_quarantine as `dispatch-schedule`). */
  onQuarantined?: (entries: QuarantinedEvent[]) => void;
  now?: () => number;
}): ScheduleProjection {
  const now = options.now ?? Date.now;
  const consumer = startCheckpointedConsumer({
    store: options.store,
    pool: options.pool,
    subscriptionId: options.subscriptionId,
    category: 'message',
    batchSize: options.batchSize,
    // A value the table refuses (a due time out of range, a stream id that is no message id) is set aside,
    // never retried forever: every later send would wait behind it.
    quarantineAs: scheduleQuarantineName,
    onQuarantined: (entries) => {
      for (const entry of entries)
        options.log.error({ quarantined: entry }, 'schedule projection quarantined an event');
      options.onQuarantined?.(entries);
    },
    apply: async (client, events) => {
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
      // The schedule and its checkpoint are derived from the log and commit together: a commit lost
      // in a crash loses both and the batch is simply applied again, so it need not wait for fsync.
      await client.query('SET LOCAL synchronous_commit = off');
      const leased = await applyScheduleChanges(client, changes, {
        ids: new Set(fresh.keys()),
        untilMs: at + options.leaseMs,
      });
      return { changes, fresh, leased, at };
    },
    onCommitted: ({ changes, fresh, leased, at }) => {
      const waiting = changes.filter((c) => c.kind === 'due' && !leased.has(c.messageId) && c.dueAtMs <= at).length;
      options.onApplied(
        [...leased].map((id) => fresh.get(id)!),
        waiting,
        at + options.leaseMs,
      );
    },
    // A failed batch (database down, another owner moved the checkpoint) restarts from the stored checkpoint.
    onError: (error) =>
      options.log.error(
        { err: error },
        'schedule projection: reading or applying the log failed; retrying from the checkpoint',
      ),
  });
  return consumer;
}
