// The notifier over real processes (command API, dispatcher, mock providers, notifier) and real PostgreSQL:
// sends, inbound messages, receipts and an opt-out reach two customer endpoints, signed (verified with the
// `standardwebhooks` package), while the notifier is SIGKILLed mid-run and one receiver is down for a while
// (3 s instead of the 30 s: the retry schedule is shortened to match, so the test runs in seconds).
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type CommandApiProcess,
  type DispatcherProcess,
  getJson,
  type MockProviders,
  type NotifierProcess,
  postJson,
  sleep,
  startCommandApi,
  startDispatcher,
  startMockProviders,
  startNotifier,
  waitFor,
} from '@hatch/testing/processes';
import { webhookDeliveryId } from '@hatch/webhooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from './fixtures/receiver.ts';

const ours = '+12015550100';
// Failing for 10 s stands in for the 3 days (longer than the receiver below is down).
const notifierEnv = { WEBHOOK_DISABLE_AFTER_MS: '10000' };
/** Which customer event each log event must become (the account here is the local one: every event is ours). */
const expectedType: Record<string, (data: Record<string, unknown>) => string> = {
  MessageRequested: (d) => (d.sendAt ? 'message.scheduled' : 'message.queued'),
  MessageSent: () => 'message.sent',
  MessageReceived: () => 'message.received',
  MessageDelivered: () => 'message.delivered',
  MessageUndelivered: () => 'message.undelivered',
  MessageFailed: () => 'message.failed',
  MessageCancelled: () => 'message.cancelled',
  ContactOptedOut: () => 'contact.opted_out',
  ContactOptedIn: () => 'contact.opted_in',
};

describe('notifier against real processes', () => {
  let database: TestDatabase;
  let db: pg.Client;
  let providers: MockProviders;
  let dispatcher: DispatcherProcess;
  let api: CommandApiProcess;
  let notifier: NotifierProcess | null = null;
  const receivers: Receiver[] = [];

  const register = async (receiver: Receiver, events?: string[]) => {
    const res = await postJson(`${api.url}/api/webhook-endpoints`, {
      url: receiver.url,
      ...(events ? { events } : {}),
    });
    expect(res.status).toBe(201);
    const body = res.body as { id: string; secret: string };
    receiver.setSecret(body.secret);
    return body.id;
  };
  const send = async (to: string) => {
    const res = await postJson(`${api.url}/api/messages/sms`, {
      from: ours,
      to,
      type: 'sms',
      body: 'appointment reminder',
      attachments: null,
      timestamp: new Date().toISOString(),
    });
    expect(res.status).toBe(202);
    return (res.body as { id: string }).id;
  };
  const inbound = async (from: string, body: string) => {
    const res = await postJson(`${api.url}/api/webhooks/sms`, {
      from,
      to: ours,
      type: 'sms',
      body,
      attachments: null,
      timestamp: new Date().toISOString(),
      messaging_provider_id: `in-${randomUUID()}`,
    });
    expect(res.status).toBe(200);
  };
  const deliveredReceipt = async (messageId: string) => {
    const { rows } = await db.query<{ pid: string }>(
      "SELECT data->>'providerMessageId' AS pid FROM events WHERE stream_id = $1 AND event_type = 'MessageSent'",
      [`message-${messageId}`],
    );
    const res = await postJson(`${api.url}/api/webhooks/sms/status`, {
      messaging_provider_id: rows[0]?.pid,
      message_id: messageId,
      status: 'delivered',
      timestamp: new Date().toISOString(),
    });
    expect(res.status).toBe(200);
  };
  const sentAll = (ids: string[]) =>
    waitFor(
      async () => {
        const { rows } = await db.query<{ n: number }>(
          "SELECT count(DISTINCT stream_id)::int AS n FROM events WHERE event_type = 'MessageSent' AND stream_id = ANY($1)",
          [ids.map((id) => `message-${id}`)],
        );
        return rows[0]?.n === ids.length;
      },
      // Generous: on a loaded machine five sends with provider faults and retries can take a while.
      45_000,
      'the dispatcher to send every message',
    );
  /** webhook-id → type, for every customer event in the log from `after` on. */
  const expectedFor = async (endpointId: string) => {
    const { rows } = await db.query<{ id: string; event_type: string; data: Record<string, unknown> }>(
      'SELECT event_id::text AS id, event_type, data FROM events WHERE event_type = ANY($1)',
      [Object.keys(expectedType)],
    );
    return new Map(
      rows.map((r) => [
        webhookDeliveryId(endpointId, r.id),
        (expectedType[r.event_type] as (d: unknown) => string)(r.data),
      ]),
    );
  };
  const receivedAll = (receiver: Receiver, expected: Map<string, string>, what: string) =>
    waitFor(
      async () => {
        const got = new Set(receiver.received.map((r) => r.webhookId));
        return [...expected.keys()].every((id) => got.has(id));
      },
      30_000,
      what,
    );

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    providers = await startMockProviders();
    dispatcher = await startDispatcher(database.url, providers);
    api = await startCommandApi(database.url, { SERVE_INBOX: 'false', CONSENT_REPLY_WINDOW_SECONDS: '1' });
    notifier = await startNotifier(database.url, notifierEnv);
  }, 90_000);

  afterAll(async () => {
    await notifier?.process.stop();
    await api?.process.stop();
    await dispatcher?.process.stop();
    await providers?.process.stop();
    for (const r of receivers) await r.close().catch(() => {});
    await db?.end();
    await database?.drop();
  });

  it('delivers every event, signed, across a SIGKILL of the notifier and a receiver that was down', async () => {
    const steady = await startReceiver();
    const flaky = await startReceiver();
    receivers.push(steady, flaky);
    const steadyId = await register(steady);
    const flakyId = await register(flaky);

    const first = [await send('+12015553001'), await send('+12015553002'), await send('+12015553003')];
    await inbound('+12015553001', 'see you then');
    await waitFor(async () => steady.received.length >= 3, 15_000, 'first deliveries');
    // The STOP below comes from the second recipient: its message must be out before it, or the dispatcher's
    // consent re-check rightly fails it as opted out and it is never sent (this raced on a loaded machine).
    await sentAll(first);

    // Mid-run: the notifier dies without a chance to finish anything, and a receiver goes away.
    await notifier?.process.stop('SIGKILL');
    let second: string[] = [];
    try {
      await flaky.down();
      second = [await send('+12015553004'), await send('+12015553005')];
      await inbound('+12015553002', 'STOP');
      await sentAll([...first, ...second]);
      for (const id of first) await deliveredReceipt(id);
    } finally {
      // Back up whatever happened above, so a failure here is this test's alone, not every later one's.
      notifier = await startNotifier(database.url, notifierEnv);
    }
    await sleep(3000);
    await flaky.up();
    await sentAll([...first, ...second]);

    const steadyExpected = await expectedFor(steadyId);
    const flakyExpected = await expectedFor(flakyId);
    expect([...steadyExpected.values()]).toEqual(
      expect.arrayContaining([
        'message.queued',
        'message.sent',
        'message.delivered',
        'message.received',
        'contact.opted_out',
      ]),
    );
    await receivedAll(steady, steadyExpected, 'every event at the steady receiver');
    await receivedAll(flaky, flakyExpected, 'every event at the receiver that was down');

    for (const [receiver, expected] of [
      [steady, steadyExpected],
      [flaky, flakyExpected],
    ] as const) {
      expect(receiver.rejected).toEqual([]);
      const bodies = new Map<string, Set<string>>();
      for (const r of receiver.received) bodies.set(r.webhookId, (bodies.get(r.webhookId) ?? new Set()).add(r.body));
      // A webhook-id may arrive twice (at least once), never with different bodies.
      for (const [id, set] of bodies) expect(set.size, id).toBe(1);
      for (const r of receiver.received) expect(r.type).toBe(expected.get(r.webhookId));
    }

    // The receiver that was down shows failed attempts, each followed by a success (the last attempts are
    // recorded just after the receiver answered them: wait for the records).
    type Attempts = { data: { succeeded: boolean; error: string | null; deliveryState: string }[] };
    const attempts = await waitFor(
      async () => {
        const page = await getJson<Attempts>(`${api.url}/api/webhook-endpoints/${flakyId}/attempts?limit=500`);
        return page.data.every((a) => a.deliveryState === 'delivered') ? page : null;
      },
      10_000,
      'every attempt recorded as delivered',
    );
    expect(attempts.data.some((a) => !a.succeeded && a.error)).toBe(true);
  }, 120_000);

  it('replays history with the original webhook-ids and bodies, and retries one attempt', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const endpointId = await register(receiver, ['message.queued']);
    const queued = await send('+12015553010');
    await waitFor(async () => receiver.received.length === 1, 15_000, 'the first delivery');
    const original = receiver.received[0];
    expect(original?.webhookId).toBe(
      webhookDeliveryId(
        endpointId,
        (
          await db.query('SELECT event_id::text AS id FROM events WHERE stream_id = $1 AND stream_version = 0', [
            `message-${queued}`,
          ])
        ).rows[0].id,
      ),
    );
    // Every message.queued of the account since the start, including those from before the endpoint existed.
    const replay = await postJson(`${api.url}/api/webhook-endpoints/${endpointId}/replay`, {
      since: '2000-01-01T00:00:00Z',
    });
    expect(replay.status).toBe(202);
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE event_type = 'MessageRequested' AND data->>'sendAt' IS NULL",
    );
    // The replay re-sends the first delivery too: distinct ids alone can be complete before its copy arrives.
    await waitFor(
      async () =>
        new Set(receiver.received.map((r) => r.webhookId)).size === rows[0]?.n &&
        receiver.received.filter((r) => r.webhookId === original?.webhookId).length >= 2,
      15_000,
      'the replay',
    );
    const again = receiver.received.filter((r) => r.webhookId === original?.webhookId);
    expect(again.length).toBe(2);
    expect(again[1]?.body).toBe(original?.body);

    const attempts = await getJson<{ data: { attemptId: string; webhookId: string }[] }>(
      `${api.url}/api/webhook-endpoints/${endpointId}/attempts`,
    );
    const one = attempts.data.find((a) => a.webhookId === original?.webhookId);
    const before = receiver.received.length;
    const retried = await postJson(
      `${api.url}/api/webhook-endpoints/${endpointId}/attempts/${one?.attemptId}/retry`,
      {},
    );
    expect(retried.status).toBe(202);
    await waitFor(async () => receiver.received.length === before + 1, 10_000, 'the retried attempt');
    expect(receiver.received.at(-1)?.webhookId).toBe(original?.webhookId);
  }, 60_000);

  it('disables an endpoint that answers 410 Gone, and says why', async () => {
    const gone = await startReceiver();
    receivers.push(gone);
    gone.behave({ status: 410 });
    const endpointId = await register(gone, ['message.queued']);
    await send('+12015553020');
    const endpoint = await waitFor(
      async () => {
        const e = await getJson<{ enabled: boolean; disabled: { reason: string } | null }>(
          `${api.url}/api/webhook-endpoints/${endpointId}`,
        );
        return e.disabled ? e : null;
      },
      15_000,
      'the endpoint to be disabled',
    );
    expect(endpoint).toMatchObject({ enabled: false, disabled: { reason: 'gone' } });
    // What the inbox's operations view shows an operator.
    const health = await getJson<{
      endpoints: { endpointId: string; enabled: boolean }[];
      failingAttempts: { endpointId: string; responseStatus: number }[];
    }>(`${notifier?.url}/webhooks/health`);
    expect(health.endpoints).toContainEqual(expect.objectContaining({ endpointId, enabled: false }));
    expect(health.failingAttempts).toContainEqual(expect.objectContaining({ endpointId, responseStatus: 410 }));
  }, 30_000);

  it('disables an endpoint that keeps failing, and resumes its deliveries when enabled again', async () => {
    const failing = await startReceiver();
    receivers.push(failing);
    failing.behave({ status: 500 });
    const endpointId = await register(failing, ['message.queued']);
    const messageId = await send('+12015553030');
    const endpoint = await waitFor(
      async () => {
        const e = await getJson<{ disabled: { reason: string; detail: string } | null }>(
          `${api.url}/api/webhook-endpoints/${endpointId}`,
        );
        return e.disabled ? e : null;
      },
      30_000,
      'the failing endpoint to be disabled',
    );
    expect(endpoint.disabled).toMatchObject({ reason: 'failing', detail: expect.stringContaining('HTTP 500') });
    failing.behave({ status: 200 });
    const res = await fetch(`${api.url}/api/webhook-endpoints/${endpointId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true }),
    });
    expect(res.status).toBe(200);
    await waitFor(
      async () => failing.received.some((r) => JSON.parse(r.body).data.messageId === messageId),
      15_000,
      'the waiting delivery after re-enabling',
    );
  }, 60_000);
});
