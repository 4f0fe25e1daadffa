// Prometheus metrics of the dispatcher.
import type { AttemptResult, Classified, LookupAnswer, ProviderDirectory } from '@hatch/dispatch';
import { createMetricsRegistry } from '@hatch/platform';
import { breakerStates } from '@hatch/vocabulary';
import { Counter, Gauge, Histogram } from 'prom-client';

export function createDispatcherMetrics(providers: ProviderDirectory, inFlight: () => number) {
  const registry = createMetricsRegistry('dispatcher');
  const calls = new Counter({
    name: 'dispatcher_provider_calls_total',
    help: 'Provider calls by provider and classified result',
    labelNames: ['provider', 'result', 'reason'],
    registers: [registry],
  });
  const callSeconds = new Histogram({
    name: 'dispatcher_provider_call_seconds',
    help: 'Provider call duration',
    labelNames: ['provider'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'dispatcher_attempt_outcomes_total',
    help: 'What each dispatch attempt recorded',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const lookups = new Counter({
    name: 'dispatcher_provider_lookups_total',
    help: 'Lookups of a message at a provider after a call with an unknown result, by answer (found: not sent again)',
    labelNames: ['provider', 'answer'],
    registers: [registry],
  });
  const quarantined = new Counter({
    name: 'dispatcher_quarantined_events_total',
    help: 'Events the schedule projection could not apply, recorded in projection_quarantine and skipped',
    labelNames: ['projection'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'dispatcher_attempt_errors_total',
    help: 'Attempts that threw (retried after the lease)',
    registers: [registry],
  });
  new Gauge({
    name: 'dispatcher_breaker_state',
    help: 'Circuit breaker per provider: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      for (const [provider, state] of Object.entries(providers.breakerStates())) {
        this.set({ provider }, breakerStates.indexOf(state)); // the inbox reads it back by index
      }
    },
  });
  new Gauge({
    name: 'dispatcher_attempts_in_flight',
    help: 'Dispatch attempts in flight',
    registers: [registry],
    collect() {
      this.set(inFlight());
    },
  });
  return {
    registry,
    providerCall(provider: string, result: Classified, durationMs: number) {
      const reason = result.kind === 'accepted' ? '' : result.kind === 'rejected' ? 'rejected' : result.reason;
      calls.inc({ provider, result: result.kind, reason });
      callSeconds.observe({ provider }, durationMs / 1000);
    },
    quarantined(projection: string, count: number) {
      quarantined.inc({ projection }, count);
    },
    lookup(provider: string, answer: LookupAnswer) {
      lookups.inc({ provider, answer: answer.kind });
    },
    outcome(result: AttemptResult) {
      outcomes.inc({ outcome: result.outcome });
    },
    error() {
      errors.inc();
    },
  };
}
