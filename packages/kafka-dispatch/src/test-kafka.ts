// Shared helpers of this package's broker tests.
import { randomUUID } from 'node:crypto';
import { type Kafka, Kafka as KafkaClient, logLevel } from 'kafkajs';

export const quietKafka = (brokers: string[], clientId = 'test'): Kafka =>
  new KafkaClient({ clientId, brokers, logLevel: logLevel.NOTHING });

export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Records on the topic: the sum of its partitions' high watermarks (nothing is ever deleted in tests). */
export async function topicRecordCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every record of the topic, read with a throwaway group. */
export async function readTopic(kafka: Kafka, topic: string) {
  const expected = await topicRecordCount(kafka, topic);
  const records: { key: string; value: string; partition: number }[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      records.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition });
    },
  });
  await until(() => records.length >= expected, 20_000, `reading ${expected} records`);
  await consumer.disconnect();
  return records;
}
