// Serves the built inbox at `/` on an API server. The inbox talks to the same origin, so no CORS.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyHelmet from '@fastify/helmet';
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
  // The inbox's own scope: its security headers stay on its pages and routes.
  await app.register(async (inbox) => {
    await inbox.register(fastifyHelmet, inboxSecurityHeaders);
    await serveInbox(inbox, distDir, options);
  });
}

/**
 * The inbox's pages: a Content-Security-Policy allowing only this origin's script, style and connections
 * (no inline script or style: the Vite build has none), never framed; nosniff and helmet's other defaults.
 */
export const inboxSecurityHeaders = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
};

async function serveInbox(app: FastifyInstance, distDir: string, options: WebInboxOptions) {
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
