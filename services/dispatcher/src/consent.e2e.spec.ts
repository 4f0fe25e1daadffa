// Opt-out compliance across real processes: mock providers post STOP/START/HELP and unsubscribe
// callbacks to a running command API; the dispatcher re-checks consent right before each provider call.
import { inboundMessageId } from '@hatch/domain';
import { freePort } from '@hatch/infra';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type CommandApiProcess,
  type DispatcherProcess,
  getJson,
  type MockProviders,
  postJson,
  startCommandApi,
  startDispatcher,
  startMockProviders,
  waitFor,
} from '@hatch/testing/processes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ours = '+12015550100';
const contact = '+12015553000';

describe('opt-outs against real processes', () => {
  let database: TestDatabase;
  let db: pg.Client;
  let providers: MockProviders;
  let api: CommandApiProcess;
  let dispatcher: DispatcherProcess | null = null;

  const send = (to = contact) =>
    postJson(`${api.url}/api/messages/sms`, {
      from: ours,
      to,
      type: 'sms',
      body: 'appointment reminder',
      attachments: null,
      timestamp: new Date().toISOString(),
    });
  /** The contact texts us (the provider posts the inbound webhook); returns our id of that message. */
  const contactSays = async (body: string, from = contact) => {
    const answer = (await postJson(`${providers.urls.sms}/admin/reply`, { from, to: ours, body })) as {
      body: { webhookStatus: number; payload: { messaging_provider_id: string } };
    };
    expect(answer.body.webhookStatus).toBe(200);
    return inboundMessageId('messaging-provider', answer.body.payload.messaging_provider_id);
  };
  /** The automatic answer a keyword caused (appended before the webhook was answered). */
  const replyTo = async (inboundId: string) => {
    const { rows } = await db.query<{ id: string }>(
      "SELECT data->>'messageId' AS id FROM events WHERE event_type = 'MessageRequested' AND metadata->>'causationId' = $1",
      [inboundId],
    );
    expect(rows).toHaveLength(1);
    return rows[0]?.id as string;
  };
  const streamTypes = async (messageId: string) =>
    (
      await db.query<{ event_type: string; data: { reason?: string } }>(
        'SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [`message-${messageId}`],
      )
    ).rows;
  const providerSaw = async (messageId: string) => {
    const ledgers = await Promise.all(
      [providers.urls.sms, providers.urls.smsBackup].map((u) =>
        getJson<{ messages: { messageId: string | null }[] }>(`${u}/admin/messages`),
      ),
    );
    return ledgers.some((l) => l.messages.some((m) => m.messageId === messageId));
  };
  const requestedCount = async () =>
    Number((await db.query(`SELECT count(*)::int AS n FROM events WHERE event_type = 'MessageRequested'`)).rows[0].n);

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const apiPort = await freePort();
    [providers, api] = await Promise.all([
      startMockProviders({ HATCH_CALLBACK_BASE_URL: `http://127.0.0.1:${apiPort}` }),
      startCommandApi(database.url, {}, apiPort),
    ]);
  });

  afterAll(async () => {
    await dispatcher?.process.stop();
    await api?.process.stop();
    await providers?.process.stop();
    await db?.end();
    await database?.drop();
  });

  it('a STOP that lands while a send is queued ends it Failed opted_out; the provider never sees it', async () => {
    // No dispatcher yet: the send waits in the schedule while the contact opts out.
    const queued = await send();
    expect(queued.status).toBe(202);
    const messageId = (queued.body as { id: string }).id;
    const stopId = await contactSays('Stop');

    dispatcher = await startDispatcher(database.url, providers);
    const events = await waitFor(
      async () => {
        const rows = await streamTypes(messageId);
        return rows.some((r) => r.event_type === 'MessageFailed') ? rows : null;
      },
      15_000,
      'the queued send to fail',
    );
    expect(events.map((e) => e.event_type)).toEqual(['MessageRequested', 'MessageFailed']);
    expect(events[1]?.data.reason).toBe('opted_out');
    // The STOP confirmation itself goes out.
    const replyId = await replyTo(stopId);
    await waitFor(() => providerSaw(replyId), 15_000, 'the STOP confirmation at the provider');
    expect(await providerSaw(messageId)).toBe(false);
  });

  it('a send after STOP is refused with 422 and appends nothing', async () => {
    const before = await requestedCount();
    const refused = await send();
    expect(refused.status).toBe(422);
    expect((refused.body as { type: string }).type).toBe('https://hatch.dev/problems/recipient-opted-out');
    expect(await requestedCount()).toBe(before);
  });

  it('START restores sending; HELP is answered', async () => {
    const startReply = await replyTo(await contactSays('START'));
    await waitFor(() => providerSaw(startReply), 15_000, 'the START confirmation');
    const accepted = await send();
    expect(accepted.status).toBe(202);
    await waitFor(() => providerSaw((accepted.body as { id: string }).id), 15_000, 'the send after START');

    const helpReply = await replyTo(await contactSays('help'));
    await waitFor(() => providerSaw(helpReply), 15_000, 'the HELP answer');
  });

  it("the email provider's unsubscribe callback refuses further email from that sender", async () => {
    const unsubscribed = (await postJson(`${providers.urls.email}/admin/unsubscribe`, {
      email: 'reader@example.com',
      sender: 'news@usehatchapp.com',
    })) as { body: { webhookStatus: number } };
    expect(unsubscribed.body.webhookStatus).toBe(200);
    const refused = await postJson(`${api.url}/api/messages/email`, {
      from: 'news@usehatchapp.com',
      to: 'Reader@Example.com',
      body: 'weekly news',
      attachments: null,
      timestamp: new Date().toISOString(),
    });
    expect(refused.status).toBe(422);
  });
});
