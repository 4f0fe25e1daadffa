// One SMS followed through every process by its trace: the command API's request, the dispatcher's two
// attempts (the mock provider answers 429 once) with their provider calls, the provider's receipt webhook
// and the projector's spans, all in one trace, exported over real OTLP/HTTP (JSON) to a collector here.

import { messageStreamId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { type CollectedSpan, startTraceCollector, type TraceCollector } from '@hatch/infra/trace-collector';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type CommandApiProcess,
  type DispatcherProcess,
  type MockProviders,
  type ServiceProcess,
  spawnService,
  startCommandApi,
  startDispatcher,
  startMockProviders,
  waitFor,
} from '@hatch/testing/processes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const from = '+12016661234';
const to = '+18045557777';
const body = 'tracing suite secret body';
// OTLP span kinds.
const SERVER = 2;
const CLIENT = 3;

describe('one trace across the processes', () => {
  let collector: TraceCollector;
  let database: TestDatabase;
  let store: PostgresEventStore;
  let api: CommandApiProcess;
  let providers: MockProviders;
  let dispatcher: DispatcherProcess;
  let projector: ServiceProcess;

  beforeAll(async () => {
    // HATCH_TRACE_FILE=path keeps the spans for a look (bin/trace show).
    collector = await startTraceCollector({ file: process.env.HATCH_TRACE_FILE });
    database = await createTestDatabase();
    store = new PostgresEventStore({ connectionString: database.url });
    const otel = (service: string) => ({
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    // One at a time: with tracing on each start loads the SDK, and these machines are shared.
    api = await startCommandApi(database.url, { ...otel('command-api'), LOG_LEVEL: 'info' });
    providers = await startMockProviders({
      ...otel('mock-providers'),
      HATCH_CALLBACK_BASE_URL: api.url,
      RECEIPTS_ENABLED: 'true',
      RECEIPT_DELAY_MS: '50',
      FAULT_429_RATE: '1',
      // Time for the suite to lift the fault before the retry is due.
      FAULT_RETRY_AFTER_SECONDS: '2',
    });
    dispatcher = await startDispatcher(database.url, providers, otel('dispatcher'));
    projector = spawnService('projector', {
      ...otel('projector'),
      DATABASE_URL: database.url,
      PROJECTOR_PORT: String(await freePort()),
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([api?.process.stop(), dispatcher?.process.stop(), projector?.stop(), providers?.process.stop()]);
    await store?.close();
    await database?.drop();
    await collector?.close();
  });

  it('holds the request, both attempts, the provider calls, the receipt and the projection', async () => {
    const sent = await fetch(`${api.url}/api/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from, to, type: 'sms', body, attachments: null, timestamp: new Date().toISOString() }),
    });
    expect(sent.status).toBe(202);
    const { id: messageId } = (await sent.json()) as { id: string };
    const stream = messageStreamId(messageId);

    // The first attempt met the 429: lift the fault so the retry goes through.
    await waitFor(
      async () => (await store.readStream(stream)).some((e) => e.type === 'MessageRetryScheduled'),
      15_000,
      'the 429 to schedule a retry',
    );
    const lifted = await fetch(`${providers.urls.sms}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error429Rate: 0 }),
    });
    expect(lifted.ok).toBe(true);

    const events = await waitFor(
      async () => {
        const recorded = await store.readStream(stream);
        return recorded.some((e) => e.type === 'MessageDelivered') && recorded;
      },
      20_000,
      'the retried send to be delivered',
    );
    // Every event of the message carries the request's trace.
    const traceId = events[0]?.metadata.traceparent?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const event of events) expect(event.metadata.traceparent, event.type).toContain(traceId);

    const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    const named = (service: string, test: (s: CollectedSpan) => boolean) =>
      inTrace().filter((s) => s.service === service && test(s));
    // Each process exports in its own batches: wait for the last span of each kind, not one process's.
    await waitFor(
      async () =>
        named('projector', (s) => s.name === 'project MessageDelivered').length > 0 &&
        named('command-api', (s) => s.name === 'receipt').length > 0 &&
        named('dispatcher', (s) => s.name === 'dispatch retry').length > 0 &&
        named('mock-providers', (s) => s.kind === SERVER).length >= 2,
      20_000,
      'the projection of the receipt, the receipt, the retry and the provider calls to be exported',
    );

    const request = named('command-api', (s) => s.kind === SERVER && s.name === 'POST /api/messages/sms');
    expect(request).toHaveLength(1);
    const attempts = named('dispatcher', (s) => s.name.startsWith('dispatch '));
    expect(attempts.map((s) => [s.name, s.attributes['hatch.outcome']])).toEqual([
      ['dispatch attempt', 'retry_scheduled'],
      ['dispatch retry', 'sent'],
    ]);
    expect(attempts[1]?.attributes['hatch.retry.after']).toBe(attempts[0]?.attributes['hatch.reason']);
    expect(attempts.every((s) => s.parentSpanId !== null && s.attributes['hatch.message.id'] === messageId)).toBe(true);
    // The provider calls are HTTP client spans of the attempts, answered by the mock's server spans.
    const calls = named('dispatcher', (s) => s.kind === CLIENT && s.name === 'POST');
    expect(calls.map((s) => s.attributes['http.response.status_code'])).toEqual([429, 201]);
    expect(calls.map((s) => s.parentSpanId)).toEqual(attempts.map((s) => s.spanId));
    expect(named('mock-providers', (s) => s.kind === SERVER && s.parentSpanId === calls[1]?.spanId)).toHaveLength(1);
    // The receipt: the webhook request and the append joined to the message's trace.
    expect(named('command-api', (s) => s.name === 'receipt')).toHaveLength(1);
    for (const type of ['MessageRequested', 'MessageRetryScheduled', 'MessageSent', 'MessageDelivered'])
      expect(
        named('projector', (s) => s.name === `project ${type}`),
        type,
      ).toHaveLength(1);

    // Log lines written inside the request's span carry its ids.
    const serverSpan = request[0] as CollectedSpan;
    await waitFor(
      async () => api.process.tail().includes(`"span_id":"${serverSpan.spanId}"`),
      5_000,
      'a log line of the request with its span id',
    );
    expect(api.process.tail()).toContain(`"trace_id":"${traceId}"`);
  });

  it('exports no phone number, email or body in any attribute', async () => {
    const forbidden = [from, to, to.slice(1), encodeURIComponent(to), body, 'secret body'];
    // A webhook whose query string carries an address: the span keeps the path only.
    await fetch(`${api.url}/api/webhooks/sms/status?to=${encodeURIComponent(to)}&email=ada@example.com`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await waitFor(
      async () =>
        collector.spans.some((s) => String(s.attributes['url.path'] ?? '').startsWith('/api/webhooks/sms/status')),
      10_000,
      'the webhook span',
    );
    expect(collector.spans.length).toBeGreaterThan(10);
    for (const span of collector.spans)
      for (const [key, value] of Object.entries(span.attributes)) {
        const text = JSON.stringify(value);
        for (const pii of [...forbidden, 'ada@example.com'])
          expect(text.includes(pii), `${span.service} ${span.name} ${key}=${text}`).toBe(false);
      }
  });
});
