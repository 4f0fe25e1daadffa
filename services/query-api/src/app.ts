// The query API as its own server: conventions from @hatch/http, operations endpoints, the query routes.
import { createHttpServer, installOperatorGuard, registerOperations } from '@hatch/http';
import { createMetricsRegistry } from '@hatch/platform';
import { sql } from 'slonik';
import { z } from 'zod';
import { type QueryRoutesDeps, registerQueryRoutes } from './routes.ts';

/** Unscoped (`accountScope` every account): the operator's view, guarded by the operator token. */
export async function createQueryApi(
  deps: Omit<QueryRoutesDeps, 'accountScope'>,
  options: { details?: Record<string, unknown>; operatorToken?: string | null } = {},
) {
  const app = await createHttpServer({
    logger: deps.logger,
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
  await registerQueryRoutes(app, { ...deps, accountScope: () => null });
  return app;
}
