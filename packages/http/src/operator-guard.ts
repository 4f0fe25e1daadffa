// Operator-only paths (metrics, the operations view; the whole standalone query API in production) answer
// only `Authorization: Bearer <OPERATOR_TOKEN>` once a token is configured.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Problem } from './problem.ts';

export interface OperatorGuardOptions {
  /** Guard exactly these paths… */
  paths?: readonly string[];
  /** …or every path but these (health checks stay open for orchestrators). */
  except?: readonly string[];
}

// Compared as SHA-256 digests: equal lengths, and the time taken says nothing about the token.
const digest = (value: string) => createHash('sha256').update(value).digest();

export function installOperatorGuard(app: FastifyInstance, token: string | null, options: OperatorGuardOptions) {
  if (!token) return;
  const expected = digest(token);
  const guarded = (path: string) =>
    options.paths ? options.paths.includes(path) : !(options.except ?? []).includes(path);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!guarded(request.url.split('?')[0] ?? '')) return;
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (presented && timingSafeEqual(digest(presented), expected)) return;
    throw new Problem(
      401,
      'unauthorized',
      'Unauthorized',
      { detail: 'send Authorization: Bearer <OPERATOR_TOKEN>' },
      { 'www-authenticate': 'Bearer realm="hatch-operations"' },
    );
  });
}
