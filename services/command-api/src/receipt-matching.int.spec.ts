// Item 6 against real PostgreSQL through the command API: a receipt that beats the dispatcher's MessageSent
// is recorded but held (`applied: false`), counts once the MessageSent naming its provider message id lands,
// and later receipts never move the status back or sideways. Status is folded from the log itself.
import { type MessageEventType, messageStateFrom, parseMessageEvent } from '@hatch/domain';
import { PostgresEventStore, type RecordedEvent } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { messageSent, newMessageEvent } from '@hatch/testing/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandApi } from './app.ts';
import { defaultCommandApiConfig } from './config.ts';

let db: TestDatabase;
let store: PostgresEventStore;
let app: Awaited<ReturnType<typeof createCommandApi>>;

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
  app = await createCommandApi({
    eventStore: store,
    clock: { now: () => new Date('2024-11-01T14:00:05.000Z') },
    logger: createLogger('receipt-matching-test', { level: 'silent' }),
    config: defaultCommandApiConfig(),
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  await db?.drop();
});

const statusOf = async (id: string) =>
  messageStateFrom(
    (await store.readStream(`message-${id}`)).map((e: RecordedEvent) =>
      parseMessageEvent(e.type as MessageEventType, e.data),
    ),
  )?.status;

const receipt = (id: string, pmid: string, status: string) =>
  app.inject({
    method: 'POST',
    url: '/api/webhooks/sms/status',
    payload: {
      messaging_provider_id: pmid,
      message_id: id,
      status,
      error_code: status === 'delivered' ? null : '30003',
      timestamp: '2024-11-01T14:00:09Z',
    },
  });

const recordSent = async (id: string, pmid: string) => {
  const stream = await store.readStream(`message-${id}`);
  await store.append(
    `message-${id}`,
    [newMessageEvent('MessageSent', messageSent(id, { provider: 'messaging-provider', providerMessageId: pmid }))],
    stream.length - 1,
  );
};

const send = async () =>
  (
    await app.inject({
      method: 'POST',
      url: '/api/messages/sms',
      payload: {
        from: '+12016661234',
        to: '+18045551234',
        type: 'sms',
        body: 'hi',
        attachments: null,
        timestamp: '2024-11-01T14:00:00Z',
      },
    })
  ).json().id as string;

describe('receipts and MessageSent', () => {
  it('holds an early receipt and applies it when the MessageSent naming its id lands', async () => {
    const id = await send();
    const early = await receipt(id, 'SM-early', 'delivered');
    expect(early.statusCode).toBe(200);
    expect(early.json()).toMatchObject({ event: 'MessageDelivered', applied: false });
    expect(await statusOf(id)).toBe('queued');
    await recordSent(id, 'SM-early');
    expect(await statusOf(id)).toBe('delivered');
    // A later, conflicting receipt is recorded and applies, but cannot move a terminal status sideways.
    const late = await receipt(id, 'SM-early', 'undelivered');
    expect(late.json()).toMatchObject({ event: 'MessageUndelivered', applied: true });
    expect(await statusOf(id)).toBe('delivered');
  });

  it('never lets a receipt naming another send mark the message delivered', async () => {
    const id = await send();
    await recordSent(id, 'SM-real');
    const other = await receipt(id, 'SM-someone-else', 'delivered');
    expect(other.json()).toMatchObject({ applied: false });
    expect(await statusOf(id)).toBe('sent');
  });
});
