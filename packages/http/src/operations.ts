// /health (the process is alive), /ready (its dependencies answer), /metrics (Prometheus) and
// per-route request metrics, for every service.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { HttpApp } from './server.ts';

export interface OperationsOptions {
  registry: Registry;
  /** Resolves true when the service can do its job (e.g. the database answers). */
  ready: () => Promise<boolean>;
  /** Shown on /health and /ready, e.g. `{ eventStore: 'postgres' }`: which adapters this process runs on. */
  details?: Record<string, unknown>;
}

export function registerOperations(app: HttpApp, { registry, ready, details = {} }: OperationsOptions) {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok', ...details }));
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    const ok = await ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', ...details });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
