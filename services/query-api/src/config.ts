import { z } from 'zod';

export const queryApiConfigSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  QUERY_API_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  LOG_LEVEL: z.string().default('info'),
});
export type QueryApiConfig = z.infer<typeof queryApiConfigSchema>;
