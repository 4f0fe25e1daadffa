import { checkEventStoreEnv, databaseUrlSchema, eventStoreEnvSchema } from '@hatch/event-store';
import { z } from 'zod';
import { liveStreamEnvSchema } from './live-streams.ts';

export const queryApiConfigSchema = z
  .object({
    ...eventStoreEnvSchema.shape,
    ...liveStreamEnvSchema.shape,
    /** The read tables live in PostgreSQL whichever adapter holds the log. */
    DATABASE_URL: databaseUrlSchema,
    /** Loopback by default (local mode); containers set 0.0.0.0. */
    QUERY_API_HOST: z.string().default('127.0.0.1'),
    QUERY_API_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
    READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
    SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
    LOG_LEVEL: z.string().default('info'),
    NODE_ENV: z.string().default('development'),
    /** With it set (required in production) every route but /health and /ready needs it as a bearer token:
     * this process serves every account's read model unscoped, so it is for operators and internal callers;
     * customers read through the command API's key-checked routes. */
    OPERATOR_TOKEN: z.string().min(16).optional(),
    /** Read connections of the PostgreSQL log adapter (read-your-writes waits, the live stream). */
    EVENT_STORE_READ_CONNECTIONS: z.coerce.number().int().min(1).default(4),
  })
  .superRefine((env, ctx) => {
    checkEventStoreEnv(env, ctx);
    if (env.NODE_ENV === 'production' && !env.OPERATOR_TOKEN)
      ctx.addIssue({
        code: 'custom',
        path: ['OPERATOR_TOKEN'],
        message: 'NODE_ENV=production needs OPERATOR_TOKEN: the standalone query API answers only operators',
      });
  });
export type QueryApiConfig = z.infer<typeof queryApiConfigSchema>;
