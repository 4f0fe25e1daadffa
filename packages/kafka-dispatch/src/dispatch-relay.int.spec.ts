// The relay against real PostgreSQL (log + checkpoint) and a real broker.
import { randomUUID } from 'node:crypto';
import { messageStreamId } from '@hatch/domain';
import { type NewEvent, PostgresEventStore, recordQuarantine } from '@hatch/event-store';
import { type RunningKafka, startLocalKafka } from '@hatch/infra/kafka';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDeferredDispatches } from './deferred-dispatches.ts';
import { decodeDispatchRecord } from './dispatch-record.ts';
import { relayQuarantineName, startDispatchRelay } from './dispatch-relay.ts';
import { ensureDispatchTopic } from './dispatch-topic.ts';
import { postgresRelayCheckpoint, type RelayCheckpoint } from './relay-checkpoint.ts';
import { quietKafka, readTopic, topicRecordCount, uniqueName, until } from './test-kafka.ts';

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
  console.log(`[kafka] dispatch relay suite uses ${broker.source} broker ${broker.brokers.join(',')}`);
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

const meta = { correlationId: randomUUID(), causationId: null, actor: 'relay-test', schemaVersion: 1 };
const event = (type: string, data: Record<string, unknown>): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: meta,
});

/** Appends `count` requested messages (plus a MessageSent on every fifth, which the relay ignores). */
async function requestMessages(count: number, into: PostgresEventStore = store) {
  const messages = Array.from({ length: count }, () => ({ messageId: randomUUID(), conversationId: randomUUID() }));
  await Promise.all(
    messages.map(async ({ messageId, conversationId }, i) => {
      const events = [event('MessageRequested', { messageId, conversationId, channel: 'sms' })];
      if (i % 5 === 0) events.push(event('MessageSent', { messageId, provider: 'messaging-provider', attempt: 1 }));
      await into.append(messageStreamId(messageId), events, 'no_stream');
    }),
  );
  return messages;
}

const caughtUp = async (relay: { position: string | null }, log: PostgresEventStore = store) =>
  relay.position === (await log.headPosition());

describe('dispatch relay', () => {
  it('publishes every requested message and due retry once, keyed by conversation, and restarts without duplicates', async () => {
    const topic = uniqueName('dispatch');
    await ensureDispatchTopic(kafka, { topic, partitions: 4 });
    const checkpoint = postgresRelayCheckpoint(pool, uniqueName('relay'));
    const first = await requestMessages(2500);
    const retried = first.slice(0, 10);
    for (const { messageId } of retried) {
      await store.append(messageStreamId(messageId), [
        event('MessageRetryScheduled', { messageId, attempt: 1, dueAt: new Date().toISOString() }),
      ]);
    }

    let relay = await startDispatchRelay({ store, kafka, topic, checkpoint, batchSize: 1000 });
    await until(() => caughtUp(relay), 30_000, 'relay caught up');
    await relay.stop();
    expect(await topicRecordCount(kafka, topic)).toBe(2500 + 10);

    // Restart: only what was appended meanwhile is published.
    const second = await requestMessages(700);
    relay = await startDispatchRelay({ store, kafka, topic, checkpoint, batchSize: 1000 });
    expect(relay.position).not.toBeNull();
    await until(() => caughtUp(relay), 30_000, 'restarted relay caught up');
    expect(relay.published).toBe(700);
    await relay.stop();
    expect(await topicRecordCount(kafka, topic)).toBe(2500 + 10 + 700);

    const records = (await readTopic(kafka, topic)).map((r) => ({
      ...r,
      record: decodeDispatchRecord(Buffer.from(r.value)),
    }));
    const eventIds = records.map((r) => r.record.eventId);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    const conversationOf = new Map<string, string>([...first, ...second].map((m) => [m.messageId, m.conversationId]));
    expect(new Set(records.map((r) => r.record.messageId))).toEqual(new Set(conversationOf.keys()));
    // Retries carry no conversation id; the relay looked it up so they land beside their message.
    for (const r of records) expect(r.key).toBe(conversationOf.get(r.record.messageId));
    const retryRecords = records.filter((r) => r.record.eventType === 'MessageRetryScheduled');
    expect(retryRecords.map((r) => r.record.messageId).sort()).toEqual(retried.map((m) => m.messageId).sort());
    expect(retryRecords.every((r) => r.record.dueAt !== null)).toBe(true);
  });

  it('republishes at most the batch whose checkpoint was not stored (at-least-once window)', async () => {
    const topic = uniqueName('dispatch');
    await ensureDispatchTopic(kafka, { topic, partitions: 2 });
    const real = postgresRelayCheckpoint(pool, uniqueName('relay'));
    let failures = 1;
    // Crash stand-in: the batch is published, then storing its checkpoint fails once.
    const flaky: RelayCheckpoint = {
      load: () => real.load(),
      store: async (position, previous) => {
        if (failures-- > 0) throw new Error('connection lost before the checkpoint commit');
        await real.store(position, previous);
      },
    };
    // A log of its own, so the first batch is exactly these 300 messages.
    const ownDb = await createTestDatabase();
    const ownStore = new PostgresEventStore({ connectionString: ownDb.url, pollIntervalMs: 100 });
    const messages = await requestMessages(300, ownStore);
    const relay = await startDispatchRelay({ store: ownStore, kafka, topic, checkpoint: flaky, batchSize: 1000 });
    await until(() => caughtUp(relay, ownStore), 30_000, 'relay caught up after the failed checkpoint');
    await relay.stop();
    await ownStore.close();
    await ownDb.drop();
    const records = (await readTopic(kafka, topic)).map((r) => decodeDispatchRecord(Buffer.from(r.value)));
    const perMessage = new Map<string, number>();
    for (const r of records) perMessage.set(r.messageId, (perMessage.get(r.messageId) ?? 0) + 1);
    expect(new Set(perMessage.keys())).toEqual(new Set(messages.map((m) => m.messageId)));
    // The first batch (all 300, appended before the relay started) went out twice, nothing else.
    expect(records).toHaveLength(600);
    expect([...perMessage.values()].every((n) => n === 2)).toBe(true);
  });

  it('stops a second relay that finds the checkpoint moved by another owner', async () => {
    const topic = uniqueName('dispatch');
    await ensureDispatchTopic(kafka, { topic, partitions: 1 });
    const relayId = uniqueName('relay');
    await requestMessages(5);
    const owner = await startDispatchRelay({ store, kafka, topic, checkpoint: postgresRelayCheckpoint(pool, relayId) });
    await until(() => caughtUp(owner), 30_000, 'owner caught up');
    // A stale relay believes the checkpoint is still at the start.
    const staleCheckpoint: RelayCheckpoint = { ...postgresRelayCheckpoint(pool, relayId), load: async () => null };
    const before = await topicRecordCount(kafka, topic);
    const stale = await startDispatchRelay({ store, kafka, topic, checkpoint: staleCheckpoint });
    await stale.done;
    // It sent one batch before its checkpoint was refused (the at-least-once window), then stopped.
    expect(stale.published).toBe(0);
    expect(stale.position).toBeNull();
    await requestMessages(3);
    await until(() => caughtUp(owner), 30_000, 'owner still relaying');
    expect(await topicRecordCount(kafka, topic)).toBeGreaterThan(before);
    await owner.stop();
  });

  it('quarantines events that cannot become a dispatch record and goes on publishing the rest', async () => {
    const topic = uniqueName('dispatch');
    await ensureDispatchTopic(kafka, { topic, partitions: 2 });
    const ownDb = await createTestDatabase();
    const ownPool = new pg.Pool({ connectionString: ownDb.url });
    const ownStore = new PostgresEventStore({ connectionString: ownDb.url, pollIntervalMs: 100 });
    try {
      const [before] = await requestMessages(1, ownStore);
      // Written past the command side's validation: a stream id that is no message id, an unreadable due time.
      await ownStore.append(
        'message-not-a-uuid',
        [event('MessageRequested', { messageId: 'not-a-uuid' })],
        'no_stream',
      );
      await ownStore.append(messageStreamId(before!.messageId), [
        event('MessageRetryScheduled', { messageId: before!.messageId, attempt: 1, dueAt: 'tomorrow-ish' }),
      ]);
      const [after] = await requestMessages(1, ownStore);
      const relay = await startDispatchRelay({
        store: ownStore,
        kafka,
        topic,
        checkpoint: postgresRelayCheckpoint(ownPool),
        deferred: postgresDeferredDispatches(ownPool),
        quarantine: (entries) => recordQuarantine(ownPool, entries),
      });
      await until(() => caughtUp(relay, ownStore), 30_000, 'relay caught up past the poison events');
      await relay.stop();
      expect(relay.quarantined).toBe(2);
      const records = (await readTopic(kafka, topic)).map((r) => decodeDispatchRecord(Buffer.from(r.value)));
      expect(records.map((r) => r.messageId).sort()).toEqual([before!.messageId, after!.messageId].sort());
      const { rows } = await ownPool.query(
        'SELECT projection, event_type, stream_id, error FROM projection_quarantine ORDER BY position',
      );
      expect(rows.map((r) => [r.projection, r.event_type, r.stream_id])).toEqual([
        [relayQuarantineName, 'MessageRequested', 'message-not-a-uuid'],
        [relayQuarantineName, 'MessageRetryScheduled', messageStreamId(before!.messageId)],
      ]);
    } finally {
      await ownStore.close();
      await ownPool.end();
      await ownDb.drop();
    }
  });
});
