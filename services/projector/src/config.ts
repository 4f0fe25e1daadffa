import { z } from 'zod';

export const projectorConfigSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  PROJECTOR_PORT: z.coerce.number().int().min(0).max(65535).default(8091),
  /** Comma-separated projection names; all by default. */
  PROJECTIONS: z.string().default('conversations,messages,message_events,contacts,accounts'),
  /** Most events per transaction; when caught up, batches are as small as what arrived. */
  PROJECTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(10000),
  PROJECTOR_LOCK_RETRY_MS: z.coerce.number().int().min(10).default(500),
  LOG_LEVEL: z.string().default('info'),
});
export type ProjectorConfig = z.infer<typeof projectorConfigSchema>;
