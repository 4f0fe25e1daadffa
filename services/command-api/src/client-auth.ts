// Command clients authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`: an account's key
// (bin/hatch), looked up by its SHA-256 in the account directory. In local mode a request without a key
// acts as the local account; in production every request needs a key.
import { hashApiKey, localAccountId } from '@hatch/domain';
import { Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';
import type { AccountDirectory } from './account-directory.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The account the request acts as (the local account for a keyless request in local mode). */
    accountId: string;
  }
}

export interface ClientAuthOptions {
  directory: AccountDirectory;
  /** Local mode: a request without a key is the local account's. */
  allowKeyless: boolean;
  /** Deprecated `API_KEYS` (key → client name), still honoured in local mode only. */
  legacyKeys: Map<string, string> | null;
}

const unauthorized = (detail: string) =>
  new Problem(401, 'unauthorized', 'Unauthorized', { detail }, { 'www-authenticate': 'Bearer realm="hatch"' });

/** The presented key, from `Authorization: Bearer` or `X-API-Key`; null when neither is sent. */
function presentedKey(request: FastifyRequest): string | null {
  const { authorization, 'x-api-key': apiKey } = request.headers;
  if (typeof authorization === 'string') return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? '';
  if (typeof apiKey === 'string') return apiKey.trim();
  return null;
}

export function clientAuthenticator({ directory, allowKeyless, legacyKeys }: ClientAuthOptions) {
  // By hash, like account keys: the lookup's timing says nothing about a key's content.
  const legacy = new Map([...(legacyKeys ?? [])].map(([key, client]) => [hashApiKey(key), client]));
  return async (request: FastifyRequest) => {
    const key = presentedKey(request);
    if (key === null) {
      if (!allowKeyless) throw unauthorized('send Authorization: Bearer <api key> (or X-API-Key)');
      request.accountId = localAccountId;
      return;
    }
    const accountId = (await directory.accountForKey(key)) ?? legacy.get(hashApiKey(key)) ?? null;
    if (!accountId) throw unauthorized('unknown or revoked API key');
    request.accountId = accountId;
  };
}
