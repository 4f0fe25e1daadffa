// Dispatch consumers against a real broker (KAFKA_BROKERS, else testcontainers, else the local broker).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type RunningKafka, startLocalKafka } from '@hatch/infra/kafka';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DispatchConsumer, startDispatchConsumer } from './dispatch-consumer.ts';
import { type DispatchRecord, encodeDispatchRecord } from './dispatch-record.ts';
import { ensureDispatchTopic } from './dispatch-topic.ts';
import { quietKafka, uniqueName, until } from './test-kafka.ts';

const partitions = 6;
let broker: RunningKafka;
let kafka: Kafka;
let producer: Producer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await startLocalKafka({ log: (line) => console.log(`[kafka] ${line}`) });
  console.log(`[kafka] dispatch consumer suite uses ${broker.source} broker ${broker.brokers.join(',')}`);
  kafka = quietKafka(broker.brokers);
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await producer?.disconnect();
  await broker?.stop();
});

const requestRecords = (count: number): { key: string; record: DispatchRecord }[] =>
  Array.from({ length: count }, (_, i) => ({
    key: randomUUID(), // conversation id
    record: {
      messageId: randomUUID(),
      eventType: 'MessageRequested',
      eventId: randomUUID(),
      position: String(i).padStart(10, '0'),
      dueAt: null,
    },
  }));

async function publish(topic: string, records: { key: string; record: DispatchRecord }[]) {
  for (let i = 0; i < records.length; i += 500) {
    await producer.send({
      topic,
      acks: -1,
      messages: records.slice(i, i + 500).map((r) => ({ key: r.key, value: encodeDispatchRecord(r.record) })),
    });
  }
}

const owns = (consumers: { assignment: number[] }[]) => {
  const owned = consumers.flatMap((c) => c.assignment);
  return (
    owned.length === partitions && new Set(owned).size === partitions && consumers.every((c) => c.assignment.length > 0)
  );
};

describe('dispatch consumer group', () => {
  it('shares the partitions between two dispatchers and hands every message id to exactly one callback', async () => {
    const topic = uniqueName('dispatch');
    const groupId = uniqueName('dispatchers');
    await ensureDispatchTopic(kafka, { topic, partitions });
    const calls = new Map<string, string[]>();
    const start = (name: string) =>
      startDispatchConsumer({
        kafka: quietKafka(broker.brokers, name),
        topic,
        groupId,
        dispatchMessage: async (messageId) => {
          calls.set(messageId, [...(calls.get(messageId) ?? []), name]);
        },
      });
    const a = await start('a');
    await a.joined;
    const b = await start('b');
    await b.joined;
    await until(() => owns([a, b]), 20_000, 'both dispatchers own partitions');
    expect(a.assignment.filter((p) => b.assignment.includes(p))).toEqual([]);

    const records = requestRecords(1200);
    await publish(topic, records);
    await until(() => calls.size >= records.length, 30_000, 'every message dispatched');
    await new Promise((r) => setTimeout(r, 300)); // room for a wrong second call to show up
    await Promise.all([a.stop(), b.stop()]);

    expect(new Set(calls.keys())).toEqual(new Set(records.map((r) => r.record.messageId)));
    expect([...calls.values()].filter((who) => who.length !== 1)).toEqual([]);
    const byA = [...calls.values()].filter((who) => who[0] === 'a').length;
    expect(byA).toBeGreaterThan(0);
    expect(byA).toBeLessThan(records.length);
  });

  it('lets the surviving dispatcher take over the partitions of a killed one with nothing lost', async () => {
    const topic = uniqueName('dispatch');
    const groupId = uniqueName('dispatchers');
    await ensureDispatchTopic(kafka, { topic, partitions });
    const survivorCalls = new Map<string, number>();
    const survivor: DispatchConsumer = await startDispatchConsumer({
      kafka: quietKafka(broker.brokers, 'survivor'),
      topic,
      groupId,
      sessionTimeout: 6000,
      dispatchMessage: async (messageId) => {
        await new Promise((r) => setTimeout(r, 2));
        survivorCalls.set(messageId, (survivorCalls.get(messageId) ?? 0) + 1);
      },
    });
    await survivor.joined;

    // The victim runs in its own process so SIGKILL is a real crash: no leave-group, no last commit.
    const victimCalls: string[] = [];
    let victimPartitions: number[] = [];
    const victimConcurrency = 4;
    const victim = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/consumer-process.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: broker.brokers.join(','),
          KAFKA_TOPIC: topic,
          KAFKA_GROUP_ID: groupId,
          DISPATCH_DELAY_MS: '2',
          DISPATCH_CONCURRENCY: String(victimConcurrency),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(victim);
    let pending = '';
    victim.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [word, rest = ''] = line.split(' ');
        if (word === 'dispatched') victimCalls.push(rest);
        if (word === 'joined') victimPartitions = rest.split(',').filter(Boolean).map(Number);
      }
    });
    await until(
      () => owns([survivor, { assignment: victimPartitions }]),
      30_000,
      'victim and survivor share the partitions',
    );

    const records = requestRecords(4000);
    await publish(topic, records);
    await until(() => victimCalls.length >= 800, 30_000, 'victim mid-run');
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await until(() => survivor.assignment.length === partitions, 30_000, 'survivor owns every partition');
    const everyone = () => new Set([...survivorCalls.keys(), ...victimCalls]);
    await until(() => everyone().size >= records.length, 30_000, 'every message dispatched after the takeover');
    console.log(`[kafka] takeover after SIGKILL took ${Date.now() - killedAt} ms`);
    await survivor.stop();

    expect(everyone()).toEqual(new Set(records.map((r) => r.record.messageId)));
    expect(victimCalls.length).toBeLessThan(records.length);
    // At-least-once window: only records the victim finished but had not committed run twice. A SIGKILL
    // leaves no last commit: per partition that is what it had in flight plus what finished while its one
    // commit was at the broker (commits coalesce), a small share of its work, never all of it.
    const victimSet = new Set(victimCalls);
    const twice = [...survivorCalls.keys()].filter((id) => victimSet.has(id));
    console.log(`[kafka] after SIGKILL ${twice.length} of the victim's ${victimCalls.length} records ran again`);
    expect(twice.length).toBeLessThanOrEqual(victimCalls.length / 4);
    expect([...survivorCalls.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(partitions);
  });

  it('holds a retry until it is due while later records go ahead, then commits past both', async () => {
    const topic = uniqueName('dispatch');
    await ensureDispatchTopic(kafka, { topic, partitions: 1 });
    const order: string[] = [];
    const consumer = await startDispatchConsumer({
      kafka: quietKafka(broker.brokers, 'retry'),
      topic,
      groupId: uniqueName('dispatchers'),
      dispatchMessage: async (messageId) => {
        order.push(messageId);
      },
    });
    await consumer.joined;
    const retry: DispatchRecord = {
      messageId: randomUUID(),
      eventType: 'MessageRetryScheduled',
      eventId: randomUUID(),
      position: '1',
      dueAt: new Date(Date.now() + 1500).toISOString(),
    };
    const [later] = requestRecords(1);
    await publish(topic, [
      { key: 'c', record: retry },
      { key: 'c', record: (later as { record: DispatchRecord }).record },
    ]);
    await until(() => order.length >= 2, 10_000, 'both dispatched');
    expect(order).toEqual([later?.record.messageId, retry.messageId]);
    await consumer.stop();
  });
});
