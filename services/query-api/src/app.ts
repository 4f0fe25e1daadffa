// The query API as its own server: conventions from @hatch/http, operations endpoints, the query routes.
import { createHttpServer, registerOperations } from '@hatch/http';
import { createMetricsRegistry } from '@hatch/platform';
import { sql } from 'slonik';
import { z } from 'zod';
import { type QueryRoutesDeps, registerQueryRoutes } from './routes.ts';

export async function createQueryApi(deps: QueryRoutesDeps, options: { details?: Record<string, unknown> } = {}) {
  const app = await createHttpServer({
    logger: deps.logger,
    openApi: { title: 'Hatch messaging query API', version: '1.0.0' },
  });
  registerOperations(app, {
    registry: createMetricsRegistry('query-api'),
    ready: async () => {
      await deps.pool.one(sql.type(z.object({ ok: z.literal(1) }))`SELECT 1 AS ok`);
      return true;
    },
    details: options.details,
  });
  await registerQueryRoutes(app, deps);
  return app;
}
