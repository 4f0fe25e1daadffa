// The dispatcher's schedule projection over real PostgreSQL: an event the schedule table refuses (a stream id
// that is no message id, a due time PostgreSQL cannot hold, 10000 BC) is quarantined as `dispatch-schedule` and skipped;
// the sends around it are scheduled and the checkpoint moves past it, so no later send waits behind it.
import { randomUUID } from 'node:crypto';
import { messageStreamId } from '@hatch/domain';
import { loadCheckpoint, type NewEvent, PostgresEventStore, type QuarantinedEvent } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleQuarantineName, startScheduleProjection } from './schedule-projection.ts';

let db: TestDatabase;
let pool: pg.Pool;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url });
  store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 50 });
});
afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
});

const requested = (data: Record<string, unknown>): NewEvent => ({
  id: randomUUID(),
  type: 'MessageRequested',
  data: { requestedAt: new Date().toISOString(), ...data },
  metadata: { correlationId: randomUUID(), causationId: null, actor: 'test', schemaVersion: 1 },
});

describe('dispatch schedule projection', () => {
  it('quarantines events the schedule cannot hold and schedules the rest', async () => {
    const first = randomUUID();
    const farOff = randomUUID();
    const last = randomUUID();
    await store.append(messageStreamId(first), [requested({ messageId: first })], 'no_stream');
    // Both written past the command side's validation, straight into the log.
    await store.append('message-not-a-uuid', [requested({ messageId: 'not-a-uuid' })], 'no_stream');
    await store.append(
      messageStreamId(farOff),
      [requested({ messageId: farOff, sendAt: '-010000-01-01T00:00:00.000Z' })],
      'no_stream',
    );
    await store.append(messageStreamId(last), [requested({ messageId: last })], 'no_stream');
    const head = await store.headPosition();

    const quarantined: QuarantinedEvent[] = [];
    const subscriptionId = `schedule-${randomUUID()}`;
    const projection = startScheduleProjection({
      store,
      pool,
      subscriptionId,
      batchSize: 100,
      leaseMs: 30_000,
      log: createLogger('schedule-quarantine-test'),
      freeSlots: () => 0,
      onApplied: () => {},
      onQuarantined: (entries) => quarantined.push(...entries),
    });
    try {
      const until = Date.now() + 20_000;
      while ((await loadCheckpoint(pool, subscriptionId)) !== head) {
        if (Date.now() > until) throw new Error('the schedule projection never moved past the poison events');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await projection.stop();
    }
    const { rows: scheduled } = await pool.query<{ message_id: string }>('SELECT message_id FROM dispatch_schedule');
    expect(scheduled.map((r) => r.message_id).sort()).toEqual([first, last].sort());
    const { rows } = await pool.query(
      'SELECT projection, stream_id, sqlstate FROM projection_quarantine WHERE projection = $1 ORDER BY position',
      [scheduleQuarantineName],
    );
    expect(rows).toEqual([
      { projection: scheduleQuarantineName, stream_id: 'message-not-a-uuid', sqlstate: '22P02' },
      { projection: scheduleQuarantineName, stream_id: messageStreamId(farOff), sqlstate: '22008' },
    ]);
    expect(quarantined.map((q) => q.streamId)).toEqual(['message-not-a-uuid', messageStreamId(farOff)]);
  });
});
