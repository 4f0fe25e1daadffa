// The relay's /health, /ready and /metrics on the dispatcher's ops server, so compose and orchestrators
// probe it like every other process. Ready: publishing, and the checkpoint database reachable.
import { createMetricsRegistry } from '@hatch/platform';
import type pg from 'pg';
import { z } from 'zod';
import { startOpsServer } from './ops-server.ts';

export const relayOpsConfigSchema = z.object({
  RELAY_HOST: z.string().default('127.0.0.1'),
  RELAY_PORT: z.coerce.number().int().min(0).max(65535).default(8092),
});
export type RelayOpsConfig = z.infer<typeof relayOpsConfigSchema>;

export function startRelayOps(options: { config: RelayOpsConfig; pool: pg.Pool; publishing: () => boolean }) {
  return startOpsServer({
    host: options.config.RELAY_HOST,
    port: options.config.RELAY_PORT,
    registry: createMetricsRegistry('relay'),
    health: () => ({ publishing: options.publishing() }),
    ready: async () => {
      const database = await options.pool
        .query('SELECT 1')
        .then(() => true)
        .catch(() => false);
      return { ready: database && options.publishing(), detail: { database, publishing: options.publishing() } };
    },
  });
}
