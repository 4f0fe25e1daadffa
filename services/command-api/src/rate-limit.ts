// Per-client token buckets: `perSecond` sustained, `burst` at once. Every answer carries the
// RateLimit-* headers (IETF draft); an empty bucket answers 429 with Retry-After.
import { Problem } from '@hatch/http';
import type { FastifyReply, FastifyRequest } from 'fastify';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function clientRateLimiter(options: { perSecond: number; burst: number; nowMs?: () => number }) {
  const buckets = new Map<string, Bucket>();
  const now = options.nowMs ?? (() => performance.now());
  const { perSecond, burst } = options;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const t = now();
    let bucket = buckets.get(request.accountId);
    if (!bucket) {
      bucket = { tokens: burst, updatedMs: t };
      buckets.set(request.accountId, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.updatedMs) / 1000) * perSecond);
    bucket.updatedMs = t;
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
        { detail: `client ${request.accountId} may send ${perSecond} requests per second (burst ${burst})` },
        { ...headers, 'retry-after': retryAfter },
      );
    }
  };
}
