// Creates the dispatch topic (idempotent) and grows it to the configured partition count.
import type { Kafka } from 'kafkajs';

export interface DispatchTopicOptions {
  topic: string;
  partitions: number;
  replicationFactor?: number;
}

export async function ensureDispatchTopic(kafka: Kafka, options: DispatchTopicOptions): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: options.topic, numPartitions: options.partitions, replicationFactor: options.replicationFactor ?? 1 },
      ],
    });
    if (created) return;
    // It existed: partitions can only grow (keys move partitions then, which only matters for order
    // across a conversation's in-flight messages; the dispatcher's expected versions keep it safe).
    const metadata = await admin.fetchTopicMetadata({ topics: [options.topic] });
    const current = metadata.topics[0]?.partitions.length ?? 0;
    if (current < options.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: options.topic, count: options.partitions }] });
    }
  } finally {
    await admin.disconnect();
  }
}
