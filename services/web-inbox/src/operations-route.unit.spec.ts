import { describe, expect, it } from 'vitest';
import { gatherOperations } from './operations-route.ts';

const health = {
  endpoints: [
    {
      endpointId: 'e1',
      accountId: 'a',
      url: 'https://a.example/h',
      enabled: false,
      failingSince: null,
      pending: 2,
      failed: 1,
      lastDeliveredAt: null,
    },
  ],
  failingAttempts: [
    {
      endpointId: 'e1',
      webhookId: 'w',
      eventType: 'message.sent',
      attempt: 3,
      attemptedAt: '2026-01-01T00:00:00.000Z',
      responseStatus: 410,
      error: 'HTTP 410',
    },
  ],
};

describe('operations: webhooks', () => {
  it("shows the notifier's endpoints and failing deliveries", async () => {
    const fetchStub = (async (url: string | URL | Request) => {
      if (String(url) === 'http://notifier/webhooks/health') return new Response(JSON.stringify(health));
      return new Response('', { status: 404 });
    }) as typeof fetch;
    const ops = await gatherOperations({ notifierUrl: 'http://notifier', fetch: fetchStub });
    expect(ops.webhooks).toMatchObject({
      reachable: true,
      error: null,
      endpoints: [{ endpointId: 'e1', enabled: false, pending: 2 }],
    });
    expect(ops.webhooks.failing).toEqual([
      {
        endpointId: 'e1',
        eventType: 'message.sent',
        attempt: 3,
        attemptedAt: '2026-01-01T00:00:00.000Z',
        responseStatus: 410,
        error: 'HTTP 410',
      },
    ]);
  });

  it('says when the notifier does not answer', async () => {
    const down = (async () => {
      throw new Error('connect ECONNREFUSED');
    }) as typeof fetch;
    const ops = await gatherOperations({ notifierUrl: 'http://notifier', fetch: down });
    expect(ops.webhooks).toEqual({ reachable: false, error: 'connect ECONNREFUSED', endpoints: [], failing: [] });
  });
});

describe('operations: dispatcher', () => {
  it("reads the dispatcher's backlog gauges and in-flight attempts", async () => {
    const metrics = [
      '# TYPE dispatcher_backlog_due gauge',
      'dispatcher_backlog_due{service="dispatcher"} 12',
      'dispatcher_backlog_oldest_due_seconds{service="dispatcher"} 3.5',
      'dispatcher_attempts_in_flight{service="dispatcher"} 4',
      'dispatcher_breaker_state{service="dispatcher",provider="messaging-provider"} 0',
    ].join('\n');
    const fetchStub = (async (url: string | URL | Request) =>
      String(url) === 'http://dispatcher/metrics'
        ? new Response(metrics)
        : new Response('', { status: 404 })) as typeof fetch;
    const ops = await gatherOperations({ dispatcherUrl: 'http://dispatcher', fetch: fetchStub });
    expect(ops.dispatcher).toEqual({ reachable: true, inFlight: 4, backlog: 12, oldestDueSeconds: 3.5, error: null });
    expect(ops.providers).toEqual([{ provider: 'messaging-provider', breaker: 'closed' }]);
  });

  it('leaves the backlog unreported when the dispatcher does not export it (the Kafka transport)', async () => {
    const fetchStub = (async () =>
      new Response('dispatcher_attempts_in_flight{service="dispatcher"} 0\n')) as typeof fetch;
    const ops = await gatherOperations({ dispatcherUrl: 'http://dispatcher', fetch: fetchStub });
    expect(ops.dispatcher).toMatchObject({ reachable: true, backlog: null, oldestDueSeconds: null });
  });
});
