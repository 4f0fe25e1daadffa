// Scheduled and retried sends on Kafka are never lost: with clocks controlled, on the real broker, a send
// due in 30 days and one due in 2 s are held by the relay's schedule (not published, no consumer timer),
// published once due and dispatched; `not_due` from the dispatcher never commits an offset.
import { randomUUID } from 'node:crypto';
import { messageStreamId } from '@hatch/domain';
import { type NewEvent, PostgresEventStore } from '@hatch/event-store';
import { type RunningKafka, startLocalKafka } from '@hatch/infra/kafka';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { type Kafka, Partitioners } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDeferredDispatches } from './deferred-dispatches.ts';
import { startDispatchConsumer } from './dispatch-consumer.ts';
import { type DispatchRecord, encodeDispatchRecord } from './dispatch-record.ts';
import { startDispatchRelay } from './dispatch-relay.ts';
import { ensureDispatchTopic } from './dispatch-topic.ts';
import { postgresRelayCheckpoint } from './relay-checkpoint.ts';
import { quietKafka, topicRecordCount, uniqueName, until } from './test-kafka.ts';

let broker: RunningKafka;
let kafka: Kafka;
let db: TestDatabase;
let pool: pg.Pool;
let store: PostgresEventStore;

beforeAll(async () => {
  [broker, db] = await Promise.all([
    startLocalKafka({ log: (line) => console.log(`[kafka] ${line}`) }),
    createTestDatabase(),
  ]);
  kafka = quietKafka(broker.brokers);
  pool = new pg.Pool({ connectionString: db.url });
  store = new PostgresEventStore({ connectionString: db.url, pollIntervalMs: 100 });
});
afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
  await broker?.stop();
});

const day = 86_400_000;
const meta = { correlationId: randomUUID(), causationId: null, actor: 'schedule-test', schemaVersion: 1 };
const event = (type: string, data: Record<string, unknown>): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: meta,
});

describe('scheduled dispatch on Kafka', () => {
  it('holds a send due in 30 days and one due in 2 s in the schedule, and dispatches each once due', async () => {
    const topic = uniqueName('scheduled');
    await ensureDispatchTopic(kafka, { topic, partitions: 2 });
    let clock = Date.parse('2026-11-01T12:00:00Z');
    const now = () => clock;
    const soon = { messageId: randomUUID(), conversationId: randomUUID() };
    const month = { messageId: randomUUID(), conversationId: randomUUID() };
    const immediate = { messageId: randomUUID(), conversationId: randomUUID() };
    await store.append(messageStreamId(soon.messageId), [
      event('MessageRequested', { ...soon, sendAt: new Date(clock + 2000).toISOString() }),
    ]);
    await store.append(messageStreamId(month.messageId), [
      event('MessageRequested', { ...month, sendAt: new Date(clock + 30 * day).toISOString() }),
    ]);
    await store.append(messageStreamId(immediate.messageId), [event('MessageRequested', immediate)]);

    const dispatched: { messageId: string; at: number }[] = [];
    const consumer = await startDispatchConsumer({
      kafka,
      topic,
      groupId: uniqueName('group'),
      now,
      dispatchMessage: async (messageId) => {
        dispatched.push({ messageId, at: clock });
      },
    });
    const relay = await startDispatchRelay({
      store,
      kafka,
      topic,
      checkpoint: postgresRelayCheckpoint(pool, uniqueName('relay')),
      deferred: postgresDeferredDispatches(pool),
      now,
      duePollMs: 50,
    });
    try {
      await consumer.joined;
      await until(() => dispatched.some((d) => d.messageId === immediate.messageId), 30_000, 'immediate send');
      // Neither future send is on the topic: nothing for a consumer to hold, no offset pinned.
      expect(await topicRecordCount(kafka, topic)).toBe(1);
      const kept = await pool.query('SELECT message_id FROM kafka_dispatch_deferred ORDER BY due_at');
      expect(kept.rows.map((r) => r.message_id)).toEqual([soon.messageId, month.messageId]);

      clock += 2000;
      await until(() => dispatched.some((d) => d.messageId === soon.messageId), 30_000, 'the 2 s send');
      expect(dispatched.find((d) => d.messageId === soon.messageId)?.at).toBeGreaterThanOrEqual(
        Date.parse('2026-11-01T12:00:02Z'),
      );
      expect(dispatched.some((d) => d.messageId === month.messageId)).toBe(false);

      clock += 30 * day;
      await until(() => dispatched.some((d) => d.messageId === month.messageId), 30_000, 'the 30-day send');
      expect(dispatched.filter((d) => d.messageId === month.messageId)).toHaveLength(1);
      expect((await pool.query('SELECT 1 FROM kafka_dispatch_deferred')).rowCount).toBe(0);
      expect(relay.deferredPublished).toBe(2);
    } finally {
      await relay.stop();
      await consumer.stop();
    }
  });

  it('never commits the offset of a record the dispatcher answered not_due, and never waits on an overflowing timer', async () => {
    const topic = uniqueName('not-due');
    await ensureDispatchTopic(kafka, { topic, partitions: 1 });
    const groupId = uniqueName('group');
    let clock = Date.parse('2026-11-01T12:00:00Z');
    // Published early (no relay schedule in between), 30 days ahead: a plain setTimeout would fire at once.
    const record: DispatchRecord = {
      messageId: randomUUID(),
      eventType: 'MessageRetryScheduled',
      eventId: randomUUID(),
      position: '1',
      dueAt: new Date(clock + 30 * day).toISOString(),
    };
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'c', value: encodeDispatchRecord(record) }] });
    await producer.disconnect();

    let answerNotDue = 2;
    const calls: number[] = [];
    const consumer = await startDispatchConsumer({
      kafka,
      topic,
      groupId,
      now: () => clock,
      notDueRecheckMs: 50,
      maxTimerMs: 200,
      dispatchMessage: async () => {
        calls.push(clock);
        if (answerNotDue-- > 0) return 'not_due';
      },
    });
    const committed = async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return offsets?.partitions[0]?.offset ?? '-1';
      } finally {
        await admin.disconnect();
      }
    };
    try {
      await consumer.joined;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(calls).toEqual([]); // not called before its due time, though its timer re-armed many times
      expect(await committed()).toBe('-1');
      clock += 30 * day;
      await until(() => calls.length >= 1, 20_000, 'first attempt');
      await until(() => calls.length >= 3, 20_000, 'attempts after not_due');
      expect(calls.length).toBe(3);
      await until(async () => (await committed()) === '1', 20_000, 'offset committed after the real attempt');
    } finally {
      await consumer.stop();
    }
  }, 60_000);
});
