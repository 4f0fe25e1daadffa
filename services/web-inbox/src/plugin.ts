// Serves the built inbox at `/` on an API server. The inbox talks to the same origin, so no CORS.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { defaultDistDir } from './dist-dir.ts';
import { type OperationsSources, registerOperationsRoute } from './operations-route.ts';

export interface WebInboxOptions {
  /** Folder of the built inbox (default `services/web-inbox/dist`). */
  distDir?: string;
  /** Build with Vite first when dist is missing or stale (default true; never in the production bundle). */
  build?: boolean;
  /** Where the operations view reads provider health and lag from (server side). */
  operations?: OperationsSources;
}

export async function registerWebInbox(app: FastifyInstance, options: WebInboxOptions = {}) {
  const distDir = options.distDir ?? defaultDistDir;
  // The production build replaces HATCH_BUILD with a constant (see dist-dir.ts), so this branch, and Vite
  // with it, is not part of the bundle.
  if (process.env.HATCH_BUILD !== 'production' && (options.build ?? true)) {
    try {
      const { ensureBuilt } = await import('./build.ts');
      await ensureBuilt({ distDir });
    } catch (error) {
      // Without Vite (a production-only install) a prebuilt dist is still worth serving.
      if (!existsSync(join(distDir, 'index.html'))) throw error;
      app.log.warn({ err: error }, 'web inbox: could not rebuild; serving the existing build');
    }
  }
  if (!existsSync(join(distDir, 'index.html'))) {
    throw new Error(
      `web inbox is not built: ${distDir}/index.html is missing (run pnpm build, or pnpm --filter @hatch/web-inbox build for development)`,
    );
  }
  // wildcard: false registers one route per built file, so unknown paths (and every /api route) keep
  // the server's own 404 and handlers.
  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders: (reply, path) => {
      // Hashed assets never change; index.html must always be revalidated.
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  registerOperationsRoute(app, options.operations ?? {});
}
