// Sign-in for the web inbox: an API key, presented once to POST /api/session, is exchanged for an HttpOnly,
// SameSite=Strict cookie. The cookie is not the key: it names the key (account id + key id, never the key or
// its hash) and when it was issued, signed with SESSION_SECRET (HMAC-SHA256, @fastify/cookie). Every request
// re-checks that key in the account directory, so revoking the key ends its sessions within the directory's
// refresh (≤ 500 ms) on every instance sharing the secret; a database leak cannot forge a session.
import { randomBytes } from 'node:crypto';
import fastifyCookie, { type CookieSerializeOptions } from '@fastify/cookie';
import { Problem, problemResponses } from '@hatch/http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountDirectory, KeyRef } from './account-directory.ts';

export const sessionCookieName = 'hatch_session';
/**
 * CSRF: besides SameSite=Strict, a write authenticated by the cookie must carry this header. A cross-site
 * page cannot add a custom header without a CORS preflight, which this API never grants.
 */
export const csrfHeader = 'x-hatch-csrf';

export interface SessionSettings {
  /** Signs the cookie; null: a random secret per process (sessions then end on restart, one instance only). */
  secret: string | null;
  /** How long a sign-in lasts. */
  ttlSeconds: number;
  /** Production mode: the cookie is `Secure`. */
  production: boolean;
}

const claimsSchema = z.object({ a: z.string().min(1), k: z.string().min(1), iat: z.number().int() });

export type SessionState = { kind: 'none' } | { kind: 'invalid' } | { kind: 'valid'; key: KeyRef; expiresAtMs: number };

export interface Sessions {
  read(request: FastifyRequest): Promise<SessionState>;
  start(reply: FastifyReply, key: KeyRef): void;
  end(reply: FastifyReply): void;
}

/** Registers the cookie parser on `app` (all scopes see `request.cookies`) and returns the session codec. */
export function installSessions(
  app: FastifyInstance,
  directory: AccountDirectory,
  settings: SessionSettings,
  nowMs: () => number,
): Sessions {
  app.register(fastifyCookie, { secret: settings.secret ?? randomBytes(32).toString('base64url') });
  const attributes: CookieSerializeOptions = {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: settings.production,
  };
  return {
    async read(request) {
      const raw = request.cookies?.[sessionCookieName];
      if (raw === undefined || raw === '') return { kind: 'none' };
      const unsigned = request.unsignCookie(raw);
      if (!unsigned.valid || unsigned.value === null) return { kind: 'invalid' };
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8'));
      } catch {
        return { kind: 'invalid' };
      }
      const claims = claimsSchema.safeParse(decoded);
      if (!claims.success) return { kind: 'invalid' };
      const ageSeconds = nowMs() / 1000 - claims.data.iat;
      if (ageSeconds < -60 || ageSeconds > settings.ttlSeconds) return { kind: 'invalid' };
      const key = { accountId: claims.data.a, keyId: claims.data.k };
      const expiresAtMs = (claims.data.iat + settings.ttlSeconds) * 1000;
      return (await directory.isLive(key)) ? { kind: 'valid', key, expiresAtMs } : { kind: 'invalid' };
    },
    start(reply, key) {
      const claims = { a: key.accountId, k: key.keyId, iat: Math.floor(nowMs() / 1000) };
      const value = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
      reply.setCookie(sessionCookieName, value, { ...attributes, signed: true, maxAge: settings.ttlSeconds });
    },
    end(reply) {
      reply.clearCookie(sessionCookieName, attributes);
    },
  };
}

const signedIn = z.object({
  accountId: z.string(),
  name: z.string(),
  /** When the session ends at the latest (it ends sooner when its key is revoked or on sign-out). */
  expiresAt: z.iso.datetime(),
});

const notSignedIn = () =>
  new Problem(
    401,
    'unauthorized',
    'Not signed in',
    { detail: 'no valid session: POST /api/session with an API key' },
    { 'www-authenticate': 'Bearer realm="hatch"' },
  );

export interface SessionRouteOptions {
  directory: AccountDirectory;
  sessions: Sessions;
  ttlSeconds: number;
  nowMs: () => number;
}

/** POST /api/session (sign in with a key), GET (who is signed in), DELETE (sign out). */
export const sessionRoutes: FastifyPluginAsyncZod<SessionRouteOptions> = async (app, options) => {
  const { directory, sessions, ttlSeconds, nowMs } = options;
  const answer = async (key: KeyRef, expiresAtMs: number) => ({
    accountId: key.accountId,
    name: (await directory.accountName(key.accountId)) ?? key.accountId,
    expiresAt: new Date(expiresAtMs).toISOString(),
  });

  app.post(
    '/api/session',
    {
      schema: {
        summary: 'Sign in (web inbox)',
        description:
          'Exchanges an API key for an HttpOnly, SameSite=Strict session cookie (`hatch_session`). The cookie names the key, not the key itself, and ends when the key is revoked. Cookie-authenticated writes must send `X-Hatch-CSRF: 1`.',
        tags: ['session'],
        body: z.strictObject({ apiKey: z.string().min(1).max(200) }),
        response: { 200: signedIn, ...problemResponses(400, 401, 415) },
      },
    },
    async (request, reply) => {
      const key = await directory.liveKey(request.body.apiKey.trim());
      if (!key) throw new Problem(401, 'unauthorized', 'Unauthorized', { detail: 'unknown or revoked API key' });
      sessions.start(reply, key);
      request.log.info({ accountId: key.accountId, keyId: key.keyId }, 'signed in');
      return answer(key, nowMs() + ttlSeconds * 1000);
    },
  );

  app.get(
    '/api/session',
    {
      schema: {
        summary: 'Who is signed in',
        description: 'The account of the session cookie; 401 when there is none or it ended.',
        tags: ['session'],
        response: { 200: signedIn, ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      const session = await sessions.read(request);
      if (session.kind !== 'valid') {
        if (session.kind === 'invalid') sessions.end(reply);
        throw notSignedIn();
      }
      return answer(session.key, session.expiresAtMs);
    },
  );

  app.delete(
    '/api/session',
    {
      schema: {
        summary: 'Sign out',
        description: 'Clears the session cookie (also when there was none).',
        tags: ['session'],
        response: { 200: z.object({ signedIn: z.literal(false) }) },
      },
    },
    async (_request, reply) => {
      sessions.end(reply);
      return { signedIn: false as const };
    },
  );
};
