// Token buckets: `perSecond` sustained, `burst` at once, one bucket per key — the client's account for
// commands, the source address for provider webhooks. Every answer carries the RateLimit-* headers (IETF
// draft); an empty bucket answers 429 with Retry-After.
import { Problem, problemResponses } from '@hatch/http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface TokenBucketOptions extends RateLimit {
  /** Which bucket a request draws from. */
  keyOf: (request: FastifyRequest) => string;
  /** Who is limited, for the 429's detail ("client acme", "source address 203.0.113.9"). */
  describe: (key: string) => string;
  nowMs?: () => number;
  /** Beyond this many buckets, full ones are dropped (a full bucket is the same as none). */
  maxBuckets?: number;
}

export function tokenBucketLimiter(options: TokenBucketOptions) {
  const buckets = new Map<string, Bucket>();
  const now = options.nowMs ?? (() => performance.now());
  const { perSecond, burst, keyOf, describe, maxBuckets = 10_000 } = options;
  const refill = (bucket: Bucket, t: number) => {
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.updatedMs) / 1000) * perSecond);
    bucket.updatedMs = t;
  };
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const t = now();
    const key = keyOf(request);
    let bucket = buckets.get(key);
    if (!bucket) {
      // Many keys (addresses) would otherwise grow the map without bound.
      if (buckets.size >= maxBuckets)
        for (const [k, b] of buckets) {
          refill(b, t);
          if (b.tokens >= burst) buckets.delete(k);
        }
      bucket = { tokens: burst, updatedMs: t };
      buckets.set(key, bucket);
    }
    refill(bucket, t);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const headers = {
      'ratelimit-limit': String(burst),
      'ratelimit-remaining': String(Math.floor(bucket.tokens)),
      'ratelimit-reset': String(Math.ceil((burst - bucket.tokens) / perSecond)),
    };
    reply.headers(headers);
    if (!allowed) {
      const retryAfter = String(Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)));
      throw new Problem(
        429,
        'rate-limited',
        'Too Many Requests',
        { detail: `${describe(key)} may send ${perSecond} requests per second (burst ${burst})` },
        { ...headers, 'retry-after': retryAfter },
      );
    }
  };
}

/** Per-client (account) limit on the command routes. */
export const clientRateLimiter = (options: RateLimit & { nowMs?: () => number }) =>
  tokenBucketLimiter({ ...options, keyOf: (request) => request.accountId, describe: (key) => `client ${key}` });

export const webhookPrefix = '/api/webhooks/';

/**
 * Provider webhooks limited per source address (`request.ip`: the peer, or the forwarded address when
 * TRUST_PROXY names the proxy). A root hook on the path prefix, so every provider's routes are covered
 * wherever they are registered; `null` leaves them unlimited (the local default).
 */
export function installWebhookRateLimit(app: FastifyInstance, limit: RateLimit | null) {
  // Documented on every webhook route either way, so the published contract does not depend on the mode.
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response as Record<number, unknown> | undefined;
    if (route.url.startsWith(webhookPrefix) && response && !(429 in response))
      Object.assign(response, problemResponses(429));
  });
  if (!limit) return;
  const limiter = tokenBucketLimiter({
    ...limit,
    keyOf: (request) => request.ip,
    describe: (ip) => `source address ${ip}`,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith(webhookPrefix)) await limiter(request, reply);
  });
}
