// Command clients authenticate with `Authorization: Bearer <key>` when API keys are configured.
// Keys are looked up by their SHA-256, so the comparison time says nothing about a key's content.
import { createHash } from 'node:crypto';
import { Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated command client (`default` when authentication is off). */
    clientId: string;
  }
}

export const defaultClientId = 'default';
const digest = (key: string) => createHash('sha256').update(key).digest('hex');

export function clientAuthenticator(apiKeys: Map<string, string> | null) {
  const byDigest = apiKeys ? new Map([...apiKeys].map(([key, client]) => [digest(key), client])) : null;
  return async (request: FastifyRequest) => {
    if (!byDigest) {
      request.clientId = defaultClientId;
      return;
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const clientId = match ? byDigest.get(digest(match[1] as string)) : undefined;
    if (!clientId)
      throw new Problem(
        401,
        'unauthorized',
        'Unauthorized',
        { detail: match ? 'unknown API key' : 'send Authorization: Bearer <api key>' },
        { 'www-authenticate': 'Bearer realm="hatch"' },
      );
    request.clientId = clientId;
  };
}
