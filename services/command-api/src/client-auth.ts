// Command clients authenticate with `Authorization: Bearer <key>` when API keys are configured.
// Keys are looked up by their SHA-256, so the comparison time says nothing about a key's content.
import { createHash } from 'node:crypto';
import { localAccountId } from '@hatch/domain';
import { Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The account the request acts as (the local account when authentication is off). */
    accountId: string;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

export function clientAuthenticator(apiKeys: Map<string, string> | null) {
  const byDigest = apiKeys ? new Map([...apiKeys].map(([key, client]) => [digest(key), client])) : null;
  return async (request: FastifyRequest) => {
    if (!byDigest) {
      request.accountId = localAccountId;
      return;
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const accountId = match ? byDigest.get(digest(match[1] as string)) : undefined;
    if (!accountId)
      throw new Problem(
        401,
        'unauthorized',
        'Unauthorized',
        { detail: match ? 'unknown API key' : 'send Authorization: Bearer <api key>' },
        { 'www-authenticate': 'Bearer realm="hatch"' },
      );
    request.accountId = accountId;
  };
}
