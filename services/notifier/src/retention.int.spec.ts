// Retention on real PostgreSQL: delivered deliveries older than the window go with their attempts, in
// batches; recent delivered ones, and pending or failed ones of any age, stay.
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { pruneDeliveredDeliveries, recordAttempt } from '@hatch/webhooks';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const day = 86_400_000;
const now = Date.now();
const endpointId = randomUUID();

/** A delivery with one attempt, recorded as the delivery loop records it, `ageDays` ago. */
async function delivery(state: 'delivered' | 'pending' | 'failed', ageDays: number) {
  const deliveryId = randomUUID();
  await client.query(
    `INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_id, event_position, event_type, body, state, next_attempt_at)
     VALUES ($1, $2, $3, $4, 'message.sent', '{}', 'pending', now())`,
    [deliveryId, endpointId, randomUUID(), String(now - ageDays * day)],
  );
  const attemptedAt = new Date(now - ageDays * day);
  await recordAttempt(client, {
    attemptId: randomUUID(),
    deliveryId,
    endpointId,
    attempt: 1,
    attemptedAt,
    latencyMs: 5,
    responseStatus: state === 'delivered' ? 200 : 500,
    succeeded: state === 'delivered',
    error: state === 'delivered' ? null : 'HTTP 500',
    nextAttemptAt: state === 'pending' ? new Date(now + day) : null,
  });
  return deliveryId;
}

const ids = async (table: 'webhook_deliveries' | 'webhook_attempts') =>
  new Set((await client.query(`SELECT delivery_id FROM ${table}`)).rows.map((r) => String(r.delivery_id)));

it('deletes delivered deliveries older than the window with their attempts, in batches; keeps the rest', async () => {
  await client.query(
    `INSERT INTO webhook_endpoints (endpoint_id, account_id, url, event_types, secret, enabled)
     VALUES ($1, 'acct', 'http://127.0.0.1:9/h', NULL, 'whsec_x', true)`,
    [endpointId],
  );
  const expired = await Promise.all([40, 35, 32, 31, 45].map((age) => delivery('delivered', age)));
  const recent = await delivery('delivered', 29);
  const oldPending = await delivery('pending', 60);
  const oldFailed = await delivery('failed', 60);

  const deliveredBefore = new Date(now - 30 * day);
  // Bounded: two batches of two take four, the oldest first; the next run takes the rest.
  expect(await pruneDeliveredDeliveries(client, { deliveredBefore, batchSize: 2, maxBatches: 2 })).toBe(4);
  expect(await ids('webhook_deliveries')).toEqual(new Set([expired[3], recent, oldPending, oldFailed]));
  expect(await pruneDeliveredDeliveries(client, { deliveredBefore, batchSize: 2 })).toBe(1);
  expect(await pruneDeliveredDeliveries(client, { deliveredBefore, batchSize: 2 })).toBe(0);

  const kept = new Set([recent, oldPending, oldFailed]);
  expect(await ids('webhook_deliveries')).toEqual(kept);
  // The attempts of the deleted deliveries went with them; the kept ones' attempts stay.
  expect(await ids('webhook_attempts')).toEqual(kept);
});
