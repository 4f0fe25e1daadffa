// The notifier's batch on real PostgreSQL: an endpoint gets exactly its account's events recorded after it
// was created, applying a batch again adds nothing, an invalid event is skipped instead of stopping the
// notifier, and outcome events find their message's account through the routing table.
import { randomUUID } from 'node:crypto';
import { stampMetadata } from '@hatch/commands';
import { decideCreateWebhookEndpoint, webhookEndpointStreamId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { eventMetadata, messageRequested, messageSent, newMessageEvent } from '@hatch/testing/events';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyNotifierBatch } from './notifier-batch.ts';

let db: TestDatabase;
let store: PostgresEventStore;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await store.close();
  await db.drop();
});

const request = async (accountId: string) => {
  const data = messageRequested({ accountId, clientId: accountId });
  await store.append(`message-${data.messageId}`, [newMessageEvent('MessageRequested', data)]);
  return data.messageId;
};

it('queues one delivery per event and endpoint of the account, from the endpoint on, once', async () => {
  const before = await request('acct-a');
  const endpointId = randomUUID();
  const decision = decideCreateWebhookEndpoint(
    {
      endpointId,
      accountId: 'acct-a',
      url: 'http://127.0.0.1:9/h',
      eventTypes: ['message.queued', 'message.sent'],
      secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}`,
      createdAt: new Date().toISOString(),
    },
    null,
    { production: false },
  );
  if (!decision.ok) throw new Error('not created');
  await store.append(
    webhookEndpointStreamId(endpointId),
    stampMetadata(decision.events, { correlationId: 'c', causationId: null, actor: 'acct-a' }),
  );
  const after = await request('acct-a');
  await request('acct-b');
  // Invalid data under a known type: skipped, not a stuck notifier.
  await store.append(`message-${randomUUID()}`, [
    { id: randomUUID(), type: 'MessageRequested', data: { messageId: 'nope' }, metadata: eventMetadata() },
  ]);
  const firstBatch = await store.readAll();
  await applyNotifierBatch(client, firstBatch);
  // The outcome of `after` arrives in a later batch and is routed by the table.
  const sent = messageSent(after);
  await store.append(`message-${after}`, [newMessageEvent('MessageSent', sent, { discriminator: '1' })]);
  const all = await store.readAll();
  await applyNotifierBatch(client, all.slice(firstBatch.length));
  // The same events again (a redelivered batch) add no second delivery. (A batch whose transaction rolled
  // back is applied again on the tables as they were before it, so endpoints created later never match it.)
  await applyNotifierBatch(client, all.slice(firstBatch.length));

  const { rows } = await client.query<{ event_type: string; body: string }>(
    'SELECT event_type, body FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_position',
    [endpointId],
  );
  expect(rows.map((r) => r.event_type)).toEqual(['message.queued', 'message.sent']);
  expect(rows.every((r) => JSON.parse(r.body).data.messageId === after)).toBe(true);
  expect(rows.some((r) => r.body.includes(before))).toBe(false);
});
