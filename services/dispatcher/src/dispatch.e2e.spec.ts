// Guarantees of the dispatcher against real processes: spawned mock providers and dispatcher, real
// HTTP, real PostgreSQL. MessageRequested events are appended straight to the log.
import { PostgresEventStore } from '@hatch/event-store';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type DispatcherProcess,
  getJson,
  type MockProviders,
  phone,
  postJson,
  requestMessages,
  startDispatcher,
  startMockProviders,
  waitFor,
} from '@hatch/testing/processes';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

interface ProviderLedger {
  provider: string;
  accepted: number;
  repeats: number;
  messages: Array<{
    idempotencyKey: string | null;
    messageId: string | null;
    providerMessageId: string | null;
    outcome: string;
    repeats: number;
  }>;
}

interface Outcome {
  messageId: string;
  sent: number;
  failed: number;
  sentProvider: string | null;
  sentProviderMessageId: string | null;
}

async function outcomes(db: pg.Client, ids: string[]): Promise<Map<string, Outcome>> {
  const { rows } = await db.query<{
    id: string;
    sent: number;
    failed: number;
    provider: string | null;
    pmid: string | null;
  }>(
    `SELECT substr(stream_id, 9) AS id,
            count(*) FILTER (WHERE event_type = 'MessageSent')::int AS sent,
            count(*) FILTER (WHERE event_type = 'MessageFailed')::int AS failed,
            max(data->>'provider') FILTER (WHERE event_type = 'MessageSent') AS provider,
            max(data->>'providerMessageId') FILTER (WHERE event_type = 'MessageSent') AS pmid
       FROM events WHERE stream_id = ANY($1::text[]) GROUP BY stream_id`,
    [ids.map((id) => `message-${id}`)],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { messageId: r.id, sent: r.sent, failed: r.failed, sentProvider: r.provider, sentProviderMessageId: r.pmid },
    ]),
  );
}

const allFinished = async (db: pg.Client, ids: string[]) => {
  const map = await outcomes(db, ids);
  return ids.every((id) => {
    const o = map.get(id);
    return o && o.sent + o.failed > 0;
  })
    ? map
    : null;
};

describe('dispatcher against real processes', () => {
  let database: TestDatabase;
  let db: pg.Client;
  let store: PostgresEventStore;
  let providers: MockProviders | null = null;
  let dispatcher: DispatcherProcess | null = null;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    store = new PostgresEventStore({ connectionString: database.url });
  });

  afterEach(async () => {
    await dispatcher?.process.stop();
    await providers?.process.stop();
    dispatcher = null;
    providers = null;
    // Each test starts from an empty log and schedule.
    await db.query('TRUNCATE events, subscription_checkpoints, dispatch_schedule');
  });

  afterAll(async () => {
    await store.close();
    await db.end();
    await database.drop();
  });

  it('with 30% 500s and 20% 429s every message ends Sent or Failed, never twice, honouring Retry-After', async () => {
    providers = await startMockProviders({
      FAULT_500_RATE: '0.3',
      FAULT_429_RATE: '0.2',
      FAULT_RETRY_AFTER_SECONDS: '1',
    });
    dispatcher = await startDispatcher(database.url, providers, { BREAKER_FAILURE_THRESHOLD: '50' });
    const ids = await requestMessages(store, [
      ...Array.from({ length: 200 }, (_, i) => ({ channel: 'sms' as const, to: phone(i) })),
      ...Array.from({ length: 100 }, (_, i) => ({ channel: 'email' as const, to: `contact${i}@example.com` })),
    ]);
    const finished = await waitFor(() => allFinished(db, ids), 40_000, 'every message to finish');
    const list = [...finished.values()];
    expect(list.every((o) => o.sent + o.failed === 1)).toBe(true);
    const sent = list.filter((o) => o.sent === 1);
    expect(sent.length).toBeGreaterThan(280); // 8 attempts at 50% failure: ~0.4% fail

    // Every Sent matches what the provider accepted under that message id.
    const ledgers = await Promise.all(
      Object.values(providers.urls).map((u) => getJson<ProviderLedger>(`${u}/admin/messages`)),
    );
    const accepted = new Map<string, string>();
    for (const ledger of ledgers) {
      for (const m of ledger.messages) {
        if (m.outcome !== 'accepted') continue;
        expect(m.idempotencyKey).toBe(m.messageId);
        accepted.set(`${ledger.provider}/${m.messageId}`, m.providerMessageId!);
      }
    }
    for (const o of sent) expect(accepted.get(`${o.sentProvider}/${o.messageId}`)).toBe(o.sentProviderMessageId);

    // 429 retries waited at least the Retry-After; the log shows retries happened at all.
    const { rows } = await db.query<{ status: number; waited: number }>(
      `SELECT (data->>'providerStatus')::int AS status,
              (extract(epoch FROM ((data->>'dueAt')::timestamptz - (data->>'scheduledAt')::timestamptz)) * 1000)::float8 AS waited
         FROM events WHERE event_type = 'MessageRetryScheduled'`,
    );
    const limited = rows.filter((r) => r.status === 429);
    expect(rows.filter((r) => r.status === 500).length).toBeGreaterThan(50);
    expect(limited.length).toBeGreaterThan(30);
    const early = limited.filter((r) => !(r.waited >= 1000 || r.waited === 0));
    expect(early).toEqual([]);
  });

  it('survives SIGKILL mid-run of 1,000 sends: each sent once, provider duplicates only as repeated keys', async () => {
    providers = await startMockProviders({ FAULT_SLOW_RATE: '0.3', FAULT_SLOW_MS: '150' });
    const env = { DISPATCH_CONCURRENCY: '64' };
    dispatcher = await startDispatcher(database.url, providers, env);
    const ids = await requestMessages(
      store,
      Array.from({ length: 1000 }, (_, i) => ({ channel: 'sms' as const, to: phone(i) })),
    );
    await waitFor(
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM events WHERE event_type = 'MessageSent'`,
        );
        return (rows[0]?.n ?? 0) >= 250;
      },
      30_000,
      'a quarter of the messages to be sent',
    );
    await dispatcher.process.stop('SIGKILL');
    const { rows: before } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE event_type = 'MessageSent'`,
    );
    expect(before[0]!.n).toBeLessThan(1000);
    dispatcher = await startDispatcher(database.url, providers, env);
    const finished = await waitFor(() => allFinished(db, ids), 45_000, 'every message to finish after restart');
    const list = [...finished.values()];
    expect(list.every((o) => o.sent === 1 && o.failed === 0)).toBe(true);

    const ledger = await getJson<ProviderLedger>(`${providers.urls.sms}/admin/messages`);
    const backup = await getJson<ProviderLedger>(`${providers.urls.smsBackup}/admin/messages`);
    expect(backup.accepted).toBe(0);
    // One accepted record per message id, keyed by it: a resend after the crash was a repeated key.
    expect(ledger.accepted).toBe(1000);
    expect(new Set(ledger.messages.map((m) => m.idempotencyKey)).size).toBe(1000);
    expect(ledger.messages.every((m) => m.idempotencyKey === m.messageId)).toBe(true);
    const byMessage = new Map(ledger.messages.map((m) => [m.messageId, m.providerMessageId]));
    for (const o of list) expect(byMessage.get(o.messageId)).toBe(o.sentProviderMessageId);
  });

  it('a provider that is down: the breaker opens, the backup takes the traffic, the breaker closes after recovery', async () => {
    providers = await startMockProviders();
    dispatcher = await startDispatcher(database.url, providers, {
      BREAKER_FAILURE_THRESHOLD: '5',
      BREAKER_COOLDOWN_MS: '3000',
    });
    await postJson(`${providers.urls.sms}/admin/faults`, { down: true });
    const first = await requestMessages(
      store,
      Array.from({ length: 60 }, (_, i) => ({ channel: 'sms' as const, to: phone(i) })),
    );
    const finished = await waitFor(() => allFinished(db, first), 20_000, 'messages to go out through the backup');
    expect([...finished.values()].every((o) => o.sent === 1 && o.sentProvider === 'messaging-provider-backup')).toBe(
      true,
    );
    const health = await getJson<{ breakers: Record<string, string> }>(`${dispatcher.url}/health`);
    expect(health.breakers['messaging-provider']).not.toBe('closed');
    expect(health.breakers['messaging-provider-backup']).toBe('closed');
    // The breaker stops the hammering: while it is open, a second wave never touches the dead provider
    // (calls already in flight when it opened each failed once, then went to the backup).
    const deadCalls = async () => {
      const metrics = await (await fetch(`${dispatcher!.url}/metrics`)).text();
      return metrics
        .split('\n')
        .filter((l) => l.startsWith('dispatcher_provider_calls_total{') && l.includes('provider="messaging-provider"'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };
    const firstWaveCalls = await deadCalls();
    expect(firstWaveCalls).toBeGreaterThanOrEqual(5);
    expect(firstWaveCalls).toBeLessThanOrEqual(first.length);
    const second = await requestMessages(
      store,
      Array.from({ length: 30 }, (_, i) => ({ channel: 'sms' as const, to: phone(200 + i) })),
    );
    const secondDone = await waitFor(() => allFinished(db, second), 10_000, 'second wave through the backup');
    expect([...secondDone.values()].every((o) => o.sentProvider === 'messaging-provider-backup')).toBe(true);
    expect(await deadCalls()).toBe(firstWaveCalls);

    await postJson(`${providers.urls.sms}/admin/faults`, { down: false });
    await waitFor(
      async () => {
        // Keep traffic flowing so a half-open probe can succeed.
        const ids = await requestMessages(store, [{ channel: 'sms', to: phone(900) }]);
        await waitFor(() => allFinished(db, ids), 5000, 'probe message');
        const h = await getJson<{ breakers: Record<string, string> }>(`${dispatcher!.url}/health`);
        return h.breakers['messaging-provider'] === 'closed';
      },
      15_000,
      'the breaker to close',
    );
    const after = await requestMessages(
      store,
      Array.from({ length: 20 }, (_, i) => ({ channel: 'sms' as const, to: phone(100 + i) })),
    );
    const recovered = await waitFor(() => allFinished(db, after), 10_000, 'messages after recovery');
    expect([...recovered.values()].every((o) => o.sent === 1 && o.sentProvider === 'messaging-provider')).toBe(true);
  });

  it('a retry scheduled before a crash is made after the restart, when due (the due time lives in the log)', async () => {
    // Retry-After 4 s leaves a wide margin between seeing the first retry and the crash: the dispatcher
    // must not reach the retry's due time before it is gone (SIGKILL is immediate; a graceful SIGTERM
    // under a loaded CI machine once took long enough for the old dispatcher to retry first).
    providers = await startMockProviders({ FAULT_RETRY_AFTER_SECONDS: '4' });
    for (const url of Object.values(providers.urls)) await postJson(`${url}/admin/faults`, { error429Rate: 1 });
    dispatcher = await startDispatcher(database.url, providers);
    const [id] = await requestMessages(store, [{ channel: 'email', to: 'later@example.com' }]);
    const retry = await waitFor(
      async () => {
        const { rows } = await db.query<{ due: string; attempt: number }>(
          `SELECT data->>'dueAt' AS due, (data->>'attempt')::int AS attempt FROM events
            WHERE stream_id = $1 AND event_type = 'MessageRetryScheduled'`,
          [`message-${id}`],
        );
        return rows[0];
      },
      5000,
      'the first retry to be scheduled',
    );
    await dispatcher.process.stop('SIGKILL');
    for (const url of Object.values(providers.urls)) await postJson(`${url}/admin/faults`, { error429Rate: 0 });
    dispatcher = await startDispatcher(database.url, providers);
    const finished = await waitFor(() => allFinished(db, [id!]), 15_000, 'the retried message');
    expect(finished.get(id!)?.sent).toBe(1);
    const { rows } = await db.query<{ type: string; data: { attempt?: number; sentAt?: string } }>(
      'SELECT event_type AS type, data FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [`message-${id}`],
    );
    expect(rows.map((r) => r.type)).toEqual(['MessageRequested', 'MessageRetryScheduled', 'MessageSent']);
    const sent = rows[2]!.data;
    expect(sent.attempt).toBe(2);
    expect(Date.parse(sent.sentAt!)).toBeGreaterThanOrEqual(Date.parse(retry.due));
  });
});
