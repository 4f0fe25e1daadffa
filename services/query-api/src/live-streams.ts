// The open live streams of a process: admission under the caps (per account and in total, each SSE
// connection holds a socket and a buffer) and a handle to end streams from outside, e.g. when the key or
// session they were opened with is revoked.
import { Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AccountScope } from './read-model.ts';

/** The stream settings every process serving the query routes reads from its environment. */
export const liveStreamEnvSchema = z.object({
  /** Open streams one account may hold (beyond: 429 with Retry-After). */
  STREAMS_PER_ACCOUNT: z.coerce.number().int().min(1).default(100),
  /** Open streams this process holds in all (beyond: 503 with Retry-After). */
  STREAMS_TOTAL: z.coerce.number().int().min(1).default(5000),
  /** Bytes a stream may have unsent before it is ended as too slow (it resumes with Last-Event-ID). */
  STREAM_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .default(1024 * 1024),
  /** Retry-After of a refused stream. */
  STREAM_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(5),
});
export type LiveStreamEnv = z.infer<typeof liveStreamEnvSchema>;

export interface LiveStreamLimits {
  perAccount: number;
  total: number;
  bufferBytes: number;
  retryAfterSeconds: number;
}

export const liveStreamLimitsFrom = (env: Partial<LiveStreamEnv> = {}): LiveStreamLimits => {
  const parsed = liveStreamEnvSchema.parse(env);
  return {
    perAccount: parsed.STREAMS_PER_ACCOUNT,
    total: parsed.STREAMS_TOTAL,
    bufferBytes: parsed.STREAM_BUFFER_BYTES,
    retryAfterSeconds: parsed.STREAM_RETRY_AFTER_SECONDS,
  };
};

export interface OpenStream {
  account: AccountScope;
  conversationId?: string;
  /** The request that opened it (what authenticated it: key, session). */
  request: FastifyRequest;
}

// The unscoped (operator) streams count under a key of their own.
const operatorKey = '\u0000operator';

export class LiveStreams {
  private readonly open = new Map<OpenStream, (reason: string) => void>();
  private readonly perAccount = new Map<string, number>();

  constructor(readonly limits: LiveStreamLimits = liveStreamLimitsFrom()) {}

  get size() {
    return this.open.size;
  }

  /** Admits a stream or throws the problem to answer (429: this account's cap, 503: the process's). */
  admit(stream: OpenStream, end: (reason: string) => void): { release(): void } {
    const key = stream.account ?? operatorKey;
    const retryAfter = { 'retry-after': String(this.limits.retryAfterSeconds) };
    const held = this.perAccount.get(key) ?? 0;
    if (held >= this.limits.perAccount)
      throw new Problem(
        429,
        'too-many-streams',
        'Too many live streams',
        { detail: `this account already holds ${held} live streams (at most ${this.limits.perAccount}); close one` },
        retryAfter,
      );
    if (this.open.size >= this.limits.total)
      throw new Problem(
        503,
        'streams-full',
        'Live streams at capacity',
        { detail: `this server holds its maximum of ${this.limits.total} live streams; retry later` },
        retryAfter,
      );
    this.open.set(stream, end);
    this.perAccount.set(key, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.open.delete(stream);
        const left = (this.perAccount.get(key) ?? 1) - 1;
        if (left > 0) this.perAccount.set(key, left);
        else this.perAccount.delete(key);
      },
    };
  }

  /** Ends every open stream `match` picks (e.g. those opened with a revoked key); returns how many. */
  endWhere(match: (stream: OpenStream) => boolean, reason = 'ended by the server'): number {
    let ended = 0;
    for (const [stream, end] of [...this.open]) {
      if (!match(stream)) continue;
      end(reason);
      ended++;
    }
    return ended;
  }

  endAll(reason = 'server closing') {
    return this.endWhere(() => true, reason);
  }
}
