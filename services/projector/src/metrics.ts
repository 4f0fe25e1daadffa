// Projection lag (age of the oldest event not yet applied), throughput and ownership, for /metrics.
import { type EventStore, PostgresEventStore } from '@hatch/event-store';
import type { QuarantinedEvent } from '@hatch/projections';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BatchApplied, Projector } from './projector.ts';

/**
 * `appliedPosition` reads the projections' lowest checkpoint from the database, so a standby projector
 * reports the lag of whoever owns the projections.
 */
export function projectorMetrics(
  registry: Registry,
  store: EventStore,
  projector: () => Projector,
  appliedPosition: () => Promise<string | null>,
  openQuarantine: () => Promise<number>,
) {
  const events = new Counter({
    name: 'hatch_projection_events_total',
    help: 'Log events the projector committed to the read tables',
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'hatch_projection_skipped_events_total',
    help: 'Log events that are not message events (or fail their schema) and were skipped',
    registers: [registry],
  });
  const quarantined = new Counter({
    name: 'hatch_projection_quarantined_events_total',
    help: 'Events a projection refused for a non-transient reason and quarantined (projection_quarantine)',
    labelNames: ['projection'],
    registers: [registry],
  });
  new Gauge({
    name: 'hatch_projection_quarantined_open',
    help: 'Quarantined events not yet resolved by bin/replay --retry-quarantined',
    registers: [registry],
    async collect() {
      const open = await openQuarantine().catch(() => undefined);
      if (open !== undefined) this.set(open);
    },
  });
  const batchSeconds = new Histogram({
    name: 'hatch_projection_batch_seconds',
    help: 'Time to apply one batch and its checkpoint',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // events/s over the last window, for people reading /metrics without Prometheus' rate()
  let windowStart = performance.now();
  let windowEvents = 0;
  let rate = 0;
  new Gauge({
    name: 'hatch_projection_events_per_second',
    help: 'Events applied per second since the previous scrape',
    registers: [registry],
    collect() {
      const now = performance.now();
      if (now - windowStart > 0) rate = (windowEvents * 1000) / (now - windowStart);
      windowStart = now;
      windowEvents = 0;
      this.set(rate);
    },
  });
  new Gauge({
    name: 'hatch_projection_lag_seconds',
    help: 'Age of the oldest log event the projections have not applied yet (0 when caught up)',
    registers: [registry],
    async collect() {
      const position = await appliedPosition().catch(() => undefined);
      if (position === undefined) return;
      const pending = await store.readAll({ after: position, limit: 1 }).catch(() => []);
      const oldest = pending[0];
      this.set(oldest ? Math.max(0, (Date.now() - Date.parse(oldest.recordedAt)) / 1000) : 0);
    },
  });
  if (store instanceof PostgresEventStore) {
    // An old open transaction anywhere holds every log reader back (the snapshot gate): how long, here.
    new Gauge({
      name: 'hatch_log_snapshot_gate_held_seconds',
      help: 'How long the projector has been held behind the snapshot gate by an older open transaction (0: not held)',
      registers: [registry],
      collect() {
        this.set(store.snapshotGateStats().heldSeconds);
      },
    });
    new Gauge({
      name: 'hatch_log_snapshot_gate_held_seconds_total',
      help: 'Seconds the projector spent held behind the snapshot gate since it started',
      registers: [registry],
      collect() {
        this.set(store.snapshotGateStats().totalHeldSeconds);
      },
    });
  }
  new Gauge({
    name: 'hatch_projection_owner',
    help: '1 when this projector holds the projections lock',
    registers: [registry],
    collect() {
      this.set(projector().isOwner ? 1 : 0);
    },
  });
  return {
    onBatch(batch: BatchApplied) {
      events.inc(batch.events - batch.skipped);
      skipped.inc(batch.skipped);
      windowEvents += batch.events;
      batchSeconds.observe(batch.seconds);
    },
    onQuarantine(events: readonly QuarantinedEvent[]) {
      for (const e of events) quarantined.inc({ projection: e.projection });
    },
  };
}
