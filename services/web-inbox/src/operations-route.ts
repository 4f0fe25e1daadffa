// GET /api/inbox/operations: what the operations view shows, gathered server side from the workers'
// own endpoints (the browser cannot reach their ports). Figures a service does not report are null.
import { breakerStates } from '@hatch/vocabulary';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Operations } from './api.ts';
import { parsePrometheusText, type Sample } from './prometheus.ts';

const webhookHealthSchema = z.object({
  endpoints: z.array(
    z.object({
      endpointId: z.string(),
      url: z.string(),
      enabled: z.boolean(),
      failingSince: z.string().nullable(),
      pending: z.number(),
      failed: z.number(),
    }),
  ),
  failingAttempts: z.array(
    z.object({
      endpointId: z.string(),
      eventType: z.string(),
      attempt: z.number(),
      attemptedAt: z.string(),
      responseStatus: z.number().nullable(),
      error: z.string().nullable(),
    }),
  ),
});

export interface OperationsSources {
  /** Base URL of the dispatcher's ops server (its /health and /metrics). */
  dispatcherUrl?: string;
  /** Base URL of the projector's ops server (its /metrics). */
  projectorUrl?: string;
  /** Base URL of the notifier's ops server (its /webhooks/health). */
  notifierUrl?: string;
  fetch?: typeof fetch;
}

/** The answer is the inbox's own `Operations` (one definition for both sides); the server always fills `webhooks`. */
export type OperationsSummary = Required<Operations>;
export type WebhookEndpointHealth = OperationsSummary['webhooks']['endpoints'][number];
export type FailingDelivery = OperationsSummary['webhooks']['failing'][number];

/** Sum over label sets of the first metric present (counts), or the maximum (lags). */
const first = (samples: Sample[], names: string[], combine: 'sum' | 'max' = 'sum'): number | null => {
  for (const name of names) {
    const values = samples.filter((s) => s.name === name).map((s) => s.value);
    if (values.length) return combine === 'max' ? Math.max(...values) : values.reduce((a, b) => a + b, 0);
  }
  return null;
};

async function fetchText(doFetch: typeof fetch, url: string): Promise<string> {
  const response = await doFetch(url, { signal: AbortSignal.timeout(1500) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

export async function gatherOperations(sources: OperationsSources): Promise<OperationsSummary> {
  const doFetch = sources.fetch ?? fetch;
  const summary: OperationsSummary = {
    checkedAt: new Date().toISOString(),
    providers: [],
    dispatcher: { reachable: false, inFlight: null, backlog: null, oldestDueSeconds: null, error: 'not configured' },
    projector: { reachable: false, lagEvents: null, lagSeconds: null, quarantined: null, error: 'not configured' },
    webhooks: { reachable: false, error: 'not configured', endpoints: [], failing: [] },
  };
  await Promise.all([
    (async () => {
      if (!sources.dispatcherUrl) return;
      try {
        const samples = parsePrometheusText(await fetchText(doFetch, `${sources.dispatcherUrl}/metrics`));
        summary.dispatcher = {
          reachable: true,
          inFlight: first(samples, ['dispatcher_attempts_in_flight']),
          // Sampled from the schedule by the dispatcher itself (services/dispatcher/src/backlog-gauges.ts).
          backlog: first(samples, ['dispatcher_backlog_due']),
          oldestDueSeconds: first(samples, ['dispatcher_backlog_oldest_due_seconds'], 'max'),
          error: null,
        };
        summary.providers = samples
          .filter((s) => s.name === 'dispatcher_breaker_state' && s.labels.provider)
          .map((s) => ({ provider: s.labels.provider!, breaker: breakerStates[s.value] ?? String(s.value) }));
      } catch (error) {
        summary.dispatcher.error = error instanceof Error ? error.message : String(error);
      }
    })(),
    (async () => {
      if (!sources.projectorUrl) return;
      try {
        const samples = parsePrometheusText(await fetchText(doFetch, `${sources.projectorUrl}/metrics`));
        summary.projector = {
          reachable: true,
          // The slowest projection is the lag a reader sees.
          lagEvents: first(samples, ['hatch_projection_lag_events'], 'max'),
          lagSeconds: first(samples, ['hatch_projection_lag_seconds'], 'max'),
          quarantined: first(samples, ['hatch_projection_quarantined_open']),
          error: null,
        };
      } catch (error) {
        summary.projector.error = error instanceof Error ? error.message : String(error);
      }
    })(),
    (async () => {
      if (!sources.notifierUrl) return;
      try {
        const health = webhookHealthSchema.parse(
          JSON.parse(await fetchText(doFetch, `${sources.notifierUrl}/webhooks/health`)),
        );
        summary.webhooks = {
          reachable: true,
          error: null,
          endpoints: health.endpoints,
          failing: health.failingAttempts,
        };
      } catch (error) {
        summary.webhooks.error = error instanceof Error ? error.message : String(error);
      }
    })(),
  ]);
  return summary;
}

export function registerOperationsRoute(app: FastifyInstance, sources: OperationsSources) {
  app.get('/api/inbox/operations', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(await gatherOperations(sources)),
  );
}
