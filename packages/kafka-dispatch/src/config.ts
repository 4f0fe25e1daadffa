// Kafka dispatch settings, all from the environment (see README.md).
import { z } from 'zod';

export const kafkaDispatchConfigSchema = z.object({
  /** Comma-separated `host:port` list. */
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  KAFKA_TOPIC: z.string().min(1).default('hatch.message-dispatch'),
  /** Partitions when the relay creates the topic: the most dispatchers that can share the work. */
  KAFKA_PARTITIONS: z.coerce.number().int().positive().default(12),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().positive().default(1),
  KAFKA_GROUP_ID: z.string().min(1).default('hatch-dispatcher'),
  KAFKA_CLIENT_ID: z.string().min(1).default('hatch'),
});
export type KafkaDispatchConfig = z.infer<typeof kafkaDispatchConfigSchema>;
