// The query API as its own server: conventions from @hatch/http, operations endpoints, the query routes.
import { createHttpServer, type HttpServerOptions, installOperatorGuard, registerOperations } from '@hatch/http';
import { createMetricsRegistry } from '@hatch/platform';
import { sql } from 'slonik';
import { z } from 'zod';
import { type QueryRoutesDeps, registerQueryRoutes } from './routes.ts';

export async function createQueryApi(
  deps: QueryRoutesDeps,
  options: {
    details?: Record<string, unknown>;
    operatorToken?: string | null;
    timeouts?: HttpServerOptions['timeouts'];
  } = {},
) {
  const app = await createHttpServer({
    logger: deps.logger,
    timeouts: options.timeouts,
    openApi: { title: 'Hatch messaging query API', version: '1.0.0' },
  });
  // Unscoped reads of every account: with a token, operators only (health checks stay open).
  installOperatorGuard(app, options.operatorToken ?? null, { except: ['/health', '/ready'] });
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
