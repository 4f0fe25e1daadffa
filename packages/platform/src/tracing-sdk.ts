// Starts the official OpenTelemetry Node SDK, configured by the standard OTEL_* environment (exporter,
// protocol, endpoint, service name, sampler). Only tracing-register.ts imports this, and only when tracing
// is configured; the SDK packages are imported dynamically so a bundle without tracing never loads them.
import { register } from 'node:module';
import type { Span } from '@opentelemetry/api';
import { maskPii } from './masking.ts';

/** Query strings can carry addresses (webhooks, participant filters): spans keep the path, masked. */
export const scrubUrl = (url: string): string => maskPii(url.split('?')[0] ?? '');

const urlAttributes = ['http.target', 'http.url', 'url.full', 'url.path', 'url.query'] as const;

function scrubSpanUrls(span: Span) {
  // The instrumentation set these at span start; a hook runs right after, so overwrite them in place.
  const attributes = (span as unknown as { attributes?: Record<string, unknown> }).attributes ?? {};
  for (const name of urlAttributes) {
    const value = attributes[name];
    if (typeof value !== 'string') continue;
    if (name === 'url.query') span.setAttribute(name, '');
    else span.setAttribute(name, scrubUrl(value));
  }
}

export async function startTracingSdk(parentUrl: string) {
  // ESM imports are instrumented through import-in-the-middle's loader hook, registered only here and only for
  // the instrumented modules (wrapping every module doubles start-up time).
  register('@opentelemetry/instrumentation/hook.mjs', parentUrl, {
    data: { include: ['http', 'https', 'node:http', 'node:https', 'pg', 'pg-pool', 'kafkajs', 'undici'] },
  });
  // Traces only: metrics stay with prom-client, logs with pino.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const [{ NodeSDK }, { HttpInstrumentation }, { UndiciInstrumentation }, { PgInstrumentation }, kafka] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-kafkajs'),
    ]);
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not requests anyone follows.
        ignoreIncomingRequestHook: (request) => /^\/(?:health|ready|metrics)/.test(request.url ?? ''),
        requestHook: scrubSpanUrls,
      }),
      new UndiciInstrumentation({ requestHook: scrubSpanUrls }),
      new PgInstrumentation({ requireParentSpan: true }),
      new kafka.KafkaJsInstrumentation(),
    ],
  });
  sdk.start();
  // Flush what was recorded before the process ends (services stop on SIGTERM/SIGINT).
  const shutdown = () => {
    sdk.shutdown().catch(() => {});
  };
  process.once('beforeExit', shutdown);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.prependListener(signal, shutdown);
}
