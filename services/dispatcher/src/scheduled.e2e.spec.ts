// Scheduled sends across real processes: the due time lives in the log, the dispatcher fires a due send
// within a second (also after a restart during the wait), and a cancelled one never reaches a provider (also
// one cancelled after the dispatcher claimed it ahead of its due time).
// MessageRequested with sendAt is appended straight to the log (the API's 1-minute minimum would make the
// suite wait); cancelling goes through the running command API.
import { localAccountId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type CommandApiProcess,
  type DispatcherProcess,
  getJson,
  type MockProviders,
  phone,
  requestMessages,
  sleep,
  startCommandApi,
  startDispatcher,
  startMockProviders,
  waitFor,
} from '@hatch/testing/processes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('scheduled sends against real processes', () => {
  let database: TestDatabase;
  let db: pg.Client;
  let store: PostgresEventStore;
  let providers: MockProviders;
  let api: CommandApiProcess;
  let dispatcher: DispatcherProcess | null = null;

  const cancel = async (id: string) => {
    const res = await fetch(`${api.url}/api/messages/${id}`, { method: 'DELETE' });
    return { status: res.status, body: (await res.json()) as { status?: string; type?: string } };
  };
  const types = async (id: string) =>
    (
      await db.query<{ event_type: string }>(
        'SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [`message-${id}`],
      )
    ).rows.map((r) => r.event_type);
  const sentAt = async (ids: string[]) => {
    const { rows } = await db.query<{ id: string; sent_at: string }>(
      `SELECT substr(stream_id, 9) AS id, data->>'sentAt' AS sent_at FROM events
        WHERE event_type = 'MessageSent' AND stream_id = ANY($1::text[])`,
      [ids.map((id) => `message-${id}`)],
    );
    return rows.length === ids.length ? new Map(rows.map((r) => [r.id, Date.parse(r.sent_at)])) : null;
  };
  const providerSaw = async (messageId: string) => {
    const ledgers = await Promise.all(
      Object.values(providers.urls).map((u) =>
        getJson<{ messages: { messageId: string | null }[] }>(`${u}/admin/messages`),
      ),
    );
    return ledgers.some((l) => l.messages.some((m) => m.messageId === messageId));
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    store = new PostgresEventStore({ connectionString: database.url });
    [providers, api] = await Promise.all([startMockProviders(), startCommandApi(database.url)]);
  });

  afterAll(async () => {
    await dispatcher?.process.stop();
    await api?.process.stop();
    await providers?.process.stop();
    await store?.close();
    await db?.end();
    await database?.drop();
  });

  it('fires after a dispatcher restart during the wait; a cancelled one never reaches the provider', async () => {
    dispatcher = await startDispatcher(database.url, providers);
    const dueMs = Date.now() + 2500;
    const sendAt = new Date(dueMs).toISOString();
    const [kept, cancelled] = await requestMessages(
      store,
      [
        { channel: 'sms', to: phone(1) },
        { channel: 'email', to: 'later@example.com' },
      ],
      { sendAt, clientId: localAccountId },
    );
    // Not sent before it is due, even with the dispatcher running.
    await sleep(500);
    expect(await types(kept!)).toEqual(['MessageRequested']);
    expect(await cancel(cancelled!)).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect((await cancel(cancelled!)).status).toBe(200);

    await dispatcher.process.stop();
    dispatcher = null;
    await sleep(Math.max(0, dueMs - Date.now()) + 300);
    dispatcher = await startDispatcher(database.url, providers);

    await waitFor(() => sentAt([kept!]), 10_000, 'the scheduled send after the restart');
    expect(await types(kept!)).toEqual(['MessageRequested', 'MessageDispatchStarted', 'MessageSent']);
    expect(await providerSaw(kept!)).toBe(true);
    await sleep(500);
    expect(await types(cancelled!)).toEqual(['MessageRequested', 'MessageCancelled']);
    expect(await providerSaw(cancelled!)).toBe(false);
    // Once dispatch began, cancelling is refused.
    expect(await cancel(kept!)).toMatchObject({ status: 409 });
  });

  it('a send cancelled after the dispatcher claimed it ahead of its due time never reaches the provider', async () => {
    dispatcher ??= await startDispatcher(database.url, providers);
    const dueMs = Date.now() + 1800;
    const [id] = await requestMessages(store, [{ channel: 'sms', to: phone(42) }], {
      sendAt: new Date(dueMs).toISOString(),
      clientId: localAccountId,
    });
    // Claimed ahead (leased while not yet due): the dispatcher holds it for its due time.
    await waitFor(
      async () =>
        (await db.query('SELECT 1 FROM dispatch_schedule WHERE message_id = $1 AND lease_until IS NOT NULL', [id]))
          .rowCount === 1,
      1500,
      'the send to be claimed ahead of its due time',
    );
    expect(Date.now()).toBeLessThan(dueMs);
    expect(await cancel(id!)).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    await sleep(Math.max(0, dueMs - Date.now()) + 700);
    expect(await types(id!)).toEqual(['MessageRequested', 'MessageCancelled']);
    expect(await providerSaw(id!)).toBe(false);
  });

  it('fires due sends within 1 s of their due time', async () => {
    dispatcher ??= await startDispatcher(database.url, providers);
    const dueMs = Date.now() + 1500;
    const ids = await requestMessages(
      store,
      Array.from({ length: 50 }, (_, i) => ({ channel: 'sms' as const, to: phone(100 + i) })),
      { sendAt: new Date(dueMs).toISOString() },
    );
    const sent = await waitFor(() => sentAt(ids), 10_000, 'every scheduled send');
    const lateness = [...sent.values()].map((at) => at - dueMs);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lateness)).toBeLessThan(1000);
  });
});
