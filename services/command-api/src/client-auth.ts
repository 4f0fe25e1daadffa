// Command clients authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`: an account's key
// (bin/hatch), looked up by its SHA-256 in the account directory; the web inbox with its session cookie
// (session.ts). In local mode a request with neither acts as the local account; in production every
// request needs one. A live stream ends when the key it was opened with is revoked.
import { hashApiKey, localAccountId } from '@hatch/domain';
import { Problem } from '@hatch/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountDirectory, KeyRef } from './account-directory.ts';
import { csrfHeader, type Sessions } from './session.ts';

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
  /** The web inbox's sign-in sessions (a cookie), tried after the key headers. */
  sessions?: Sessions;
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
/** How often an open stream re-checks its key (the directory's own view is ≤ 500 ms old). */
const streamRecheckMs = 250;

const unauthorized = (detail: string) =>
  new Problem(401, 'unauthorized', 'Unauthorized', { detail }, { 'www-authenticate': 'Bearer realm="hatch"' });

/** The presented key, from `Authorization: Bearer` or `X-API-Key`; null when neither is sent. */
function presentedKey(request: FastifyRequest): string | null {
  const { authorization, 'x-api-key': apiKey } = request.headers;
  if (typeof authorization === 'string') return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? '';
  if (typeof apiKey === 'string') return apiKey.trim();
  return null;
}

/** Ends a live stream (SSE) soon after the key it was opened with is revoked. */
function endWhenRevoked(directory: AccountDirectory, key: KeyRef, request: FastifyRequest, reply: FastifyReply) {
  if (!String(request.headers.accept ?? '').includes('text/event-stream')) return;
  const timer = setInterval(() => {
    directory.isLive(key).then(
      (live) => {
        if (live) return;
        clearInterval(timer);
        request.log.info({ accountId: key.accountId }, 'live stream ended: its key was revoked');
        reply.raw.destroy();
      },
      () => {},
    );
  }, streamRecheckMs);
  timer.unref();
  reply.raw.once('close', () => clearInterval(timer));
}

export function clientAuthenticator({ directory, allowKeyless, legacyKeys, sessions }: ClientAuthOptions) {
  // By hash, like account keys: the lookup's timing says nothing about a key's content.
  const legacy = new Map([...(legacyKeys ?? [])].map(([key, client]) => [hashApiKey(key), client]));
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = presentedKey(request);
    if (key !== null) {
      const live = await directory.liveKey(key);
      const accountId = live?.accountId ?? legacy.get(hashApiKey(key)) ?? null;
      if (!accountId) throw unauthorized('unknown or revoked API key');
      request.accountId = accountId;
      if (live) endWhenRevoked(directory, live, request, reply);
      return;
    }
    const session = sessions ? await sessions.read(request) : { kind: 'none' as const };
    if (session.kind === 'invalid') {
      // Never the local account instead: the person signed in expects to see their own account.
      sessions?.end(reply);
      throw unauthorized('the session ended (signed out, expired or its key was revoked): sign in again');
    }
    if (session.kind === 'valid') {
      if (!safeMethods.has(request.method) && !request.headers[csrfHeader])
        throw new Problem(403, 'csrf-header-missing', 'Forbidden', {
          detail: `a write authenticated by the session cookie must send the ${csrfHeader} header`,
        });
      request.accountId = session.key.accountId;
      endWhenRevoked(directory, session.key, request, reply);
      return;
    }
    if (!allowKeyless) throw unauthorized('send Authorization: Bearer <api key> (or X-API-Key), or sign in');
    request.accountId = localAccountId;
  };
}
