// /metrics and the inbox's operations view say how the service runs (volumes, providers, lag): with an
// OPERATOR_TOKEN set (always in production) they answer only `Authorization: Bearer <OPERATOR_TOKEN>`.
import { timingSafeEqual } from 'node:crypto';
import { hashApiKey } from '@hatch/domain';
import { Problem } from '@hatch/http';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const operatorPaths = ['/metrics', '/api/inbox/operations'];

export function installOperatorGuard(app: FastifyInstance, token: string | null) {
  if (!token) return;
  // Compared as hashes: equal lengths, and the time taken says nothing about the token.
  const expected = Buffer.from(hashApiKey(token), 'hex');
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const path = request.url.split('?')[0] ?? '';
    if (!operatorPaths.includes(path)) return;
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (presented && timingSafeEqual(Buffer.from(hashApiKey(presented), 'hex'), expected)) return;
    throw new Problem(
      401,
      'unauthorized',
      'Unauthorized',
      { detail: 'send Authorization: Bearer <OPERATOR_TOKEN>' },
      { 'www-authenticate': 'Bearer realm="hatch-operations"' },
    );
  });
}
