import { checkEventStoreEnv, databaseUrlSchema, eventStoreEnvSchema } from '@hatch/event-store';
import { z } from 'zod';

/** See ParallelMode (projector.ts). */
export const parallelModeSchema = z.enum(['never', 'catching-up', 'always']);

export const projectorConfigSchema = z
  .object({
    ...eventStoreEnvSchema.shape,
    /** The read tables and checkpoints live in PostgreSQL whichever adapter holds the log. */
    DATABASE_URL: databaseUrlSchema,
    /** Its operations endpoints (metrics, health): loopback by default; containers set 0.0.0.0. */
    PROJECTOR_HOST: z.string().default('127.0.0.1'),
    PROJECTOR_PORT: z.coerce.number().int().min(0).max(65535).default(8091),
    /** Comma-separated projection names; all by default. */
    PROJECTIONS: z.string().default('conversations,messages,message_events,contacts,accounts'),
    /** Most events per transaction; when caught up, batches are as small as what arrived. */
    PROJECTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(10000),
    /** When projections apply each in their own transaction (ParallelMode): only while catching up by default. */
    PROJECTOR_PARALLEL: parallelModeSchema.default('catching-up'),
    PROJECTOR_LOCK_RETRY_MS: z.coerce.number().int().min(10).default(500),
    LOG_LEVEL: z.string().default('info'),
    /** Read connections of the PostgreSQL log adapter. */
    EVENT_STORE_READ_CONNECTIONS: z.coerce.number().int().min(1).default(2),
  })
  .superRefine(checkEventStoreEnv);
export type ProjectorConfig = z.infer<typeof projectorConfigSchema>;
