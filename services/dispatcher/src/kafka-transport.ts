// DISPATCH_TRANSPORT=kafka: dispatchers in one consumer group share the relay's topic. Each record names a
// message; the attempt itself is the same `dispatchAttempt` the log transport uses (it reads the message's
// stream, does nothing if the message is settled, and appends with the expected version), so a record
// delivered twice or to two dispatchers still records one outcome.
import { type AttemptResult, type DispatchDeps, dispatchAttempt } from '@hatch/dispatch';
import { ensureDispatchTopic, type KafkaDispatchConfig, startDispatchConsumer } from '@hatch/kafka-dispatch';
import type { Logger } from '@hatch/platform';
import { Kafka, logLevel } from 'kafkajs';

export const kafkaClient = (config: KafkaDispatchConfig) =>
  new Kafka({ clientId: config.KAFKA_CLIENT_ID, brokers: config.KAFKA_BROKERS, logLevel: logLevel.WARN });

export async function startKafkaDispatch(options: {
  config: KafkaDispatchConfig;
  deps: DispatchDeps;
  /** Attempts in flight in this process, shared out over the partitions it works on at once. */
  concurrency: number;
  log: Logger;
  onResult?: (result: AttemptResult) => void;
}) {
  const kafka = kafkaClient(options.config);
  // Whoever comes first creates the topic with its configured partitions (never a broker default of 1).
  await ensureDispatchTopic(kafka, {
    topic: options.config.KAFKA_TOPIC,
    partitions: options.config.KAFKA_PARTITIONS,
    replicationFactor: options.config.KAFKA_REPLICATION_FACTOR,
  });
  const consumer = await startDispatchConsumer({
    kafka,
    topic: options.config.KAFKA_TOPIC,
    groupId: options.config.KAFKA_GROUP_ID,
    logger: options.log,
    // Every partition this process may own is worked on at once: an attempt mostly waits (appends, the
    // provider), so the records in flight, not CPU, bound the rate.
    partitionsConsumedConcurrently: options.config.KAFKA_PARTITIONS,
    concurrency: Math.max(1, Math.ceil(options.concurrency / options.config.KAFKA_PARTITIONS)),
    dispatchMessage: async (messageId) => {
      // A lost race means another dispatcher moved the stream: one more look settles it.
      for (let tries = 0; tries < 3; tries++) {
        const result = await dispatchAttempt(options.deps, messageId);
        options.onResult?.(result);
        // Not due yet is unfinished work: the consumer looks again later and keeps the offset uncommitted.
        if (result.outcome === 'not_due') return 'not_due';
        if (result.outcome !== 'lost_race') return;
      }
      return;
    },
  });
  consumer.onAssignment((partitions) => options.log.info({ partitions }, 'dispatch partitions assigned'));
  return consumer;
}
