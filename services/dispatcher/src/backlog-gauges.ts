// The dispatch backlog as Prometheus gauges: messages due and claimed by nobody, and how long the oldest
// of them has been due. Sampled on a timer with one indexed query (dueBacklog), not per scrape, so a
// scraper cannot add load; only a process that keeps the schedule (the log transport) reports them.
import type { Logger } from '@hatch/platform';
import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { dueBacklog } from './schedule-store.ts';

export const backlogMetricNames = {
  due: 'dispatcher_backlog_due',
  oldestDueSeconds: 'dispatcher_backlog_oldest_due_seconds',
} as const;

export interface BacklogGauges {
  /** Takes a sample now (also what the timer does). */
  sample(): Promise<void>;
  stop(): void;
}

export async function startBacklogGauges(options: {
  pool: pg.Pool;
  registry: Registry;
  intervalMs: number;
  log: Logger;
  now?: () => number;
}): Promise<BacklogGauges> {
  const now = options.now ?? Date.now;
  const due = new Gauge({
    name: backlogMetricNames.due,
    help: 'Messages due for an attempt that no dispatcher has claimed (never leased, or the lease ran out)',
    registers: [options.registry],
  });
  const oldest = new Gauge({
    name: backlogMetricNames.oldestDueSeconds,
    help: 'How long the oldest due, unclaimed message has been due (0 when none is)',
    registers: [options.registry],
  });
  const sample = async () => {
    const backlog = await dueBacklog(options.pool, now());
    due.set(backlog.due);
    oldest.set(backlog.oldestDueSeconds);
  };
  await sample().catch((error: unknown) => options.log.warn({ err: error }, 'sampling the dispatch backlog failed'));
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    sample()
      .catch((error: unknown) => options.log.warn({ err: error }, 'sampling the dispatch backlog failed'))
      .finally(() => {
        sampling = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { sample, stop: () => clearInterval(timer) };
}
