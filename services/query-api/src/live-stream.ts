// Server-sent events of read-model changes. Each SSE `id` is the log position of the event, and an event is
// only sent once the read model has applied it (the watermark), so a client that queries on receipt sees
// the change. Reconnecting with `Last-Event-ID` resumes right after that position: the log order is total,
// so nothing is missed and nothing repeats.
//
// A stream reads nothing on its own once it is live: the process's one ChangeFeed hands it every batch and
// it keeps its account's (and conversation's) changes. A stream that resumes from before the feed's
// position first reads that gap from the log (live batches wait meanwhile, bounded), then goes live.
// Unsent bytes are bounded too: a client that falls that far behind is cut and resumes with Last-Event-ID.
import type { Logger } from '@hatch/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ChangeFeed, type FeedChange, type FeedListener, wants } from './change-feed.ts';
import type { LiveStreams } from './live-streams.ts';
import type { AccountScope } from './read-model.ts';
import type { ProjectionWatermark } from './watermark.ts';

export interface LiveStreamDeps {
  feed: ChangeFeed;
  streams: LiveStreams;
  watermark: ProjectionWatermark;
  logger: Logger;
  heartbeatMs: number;
}

export async function streamChanges(
  deps: LiveStreamDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { account: AccountScope; conversationId?: string; resumeAfter: string | null },
) {
  const abort = new AbortController();
  let endReason = '';
  const end = (reason: string) => {
    endReason ||= reason;
    abort.abort();
  };
  // Admitted before any wait, so the caps hold under a burst of connects (throws 429/503).
  const admission = deps.streams.admit(
    { account: options.account, conversationId: options.conversationId, request },
    end,
  );
  let start: string | null;
  try {
    // Without a resume position the stream starts at what the read model shows now.
    start = options.resumeAfter ?? (await deps.watermark.current());
  } catch (error) {
    admission.release();
    throw error;
  }
  const raw = reply.raw;
  reply.hijack();
  // A stream is a long response by design: no idle timeout on its socket (heartbeats keep proxies happy).
  request.raw.socket.setTimeout(0);
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  const bufferBytes = deps.streams.limits.bufferBytes;
  const onClose = () => end('client closed');
  request.raw.on('close', onClose);

  const keep = (c: FeedChange) => wants(options, c) && (start === null || c.change.position > start);
  /** Frames of live batches that arrived while catching up (null: live). */
  let pending: string[] | null = [];
  let pendingBytes = 0;
  const tooSlow = () => end('client too far behind');
  const listener: FeedListener = {
    deliver(changes) {
      if (abort.signal.aborted) return;
      // One write per batch: a syscall per stream per batch, not per change.
      let chunk = '';
      for (const c of changes) if (keep(c)) chunk += c.frame;
      if (chunk === '') return;
      if (pending) {
        pending.push(chunk);
        pendingBytes += chunk.length;
      } else raw.write(chunk);
      if ((pending ? pendingBytes : raw.writableLength) > bufferBytes) tooSlow();
    },
  };
  const heartbeat = setInterval(() => {
    if (!abort.signal.aborted) raw.write(': heartbeat\n\n');
  }, deps.heartbeatMs);
  /** Waits until the socket took what it was given (or the stream ended). */
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        raw.off('drain', done);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      raw.once('drain', done);
      abort.signal.addEventListener('abort', done, { once: true });
    });

  try {
    raw.write(`retry: 1000\n: stream from ${start ?? 'the start'}\n\n`);
    const joinedAt = await deps.feed.join(listener);
    const behind = joinedAt !== null && (start === null || start < joinedAt);
    if (behind && !abort.signal.aborted)
      await deps.feed.catchUp(
        start,
        joinedAt,
        async (changes) => {
          let chunk = '';
          for (const c of changes) if (wants(options, c)) chunk += c.frame;
          if (chunk !== '' && !raw.write(chunk) && !abort.signal.aborted) await drained();
        },
        abort.signal,
      );
    if (!abort.signal.aborted) {
      const waiting = pending;
      pending = null;
      if (waiting.length > 0) raw.write(waiting.join(''));
      await new Promise<void>((resolve) => {
        if (abort.signal.aborted) resolve();
        else abort.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  } catch (error) {
    if (!abort.signal.aborted) deps.logger.warn({ err: error }, 'live stream failed');
  } finally {
    clearInterval(heartbeat);
    deps.feed.leave(listener);
    admission.release();
    request.raw.off('close', onClose);
    if (endReason === 'client too far behind') {
      // Drop what it has not read: holding it is what the bound prevents. The client resumes from the
      // last whole event it got.
      deps.logger.info({ requestId: request.id }, 'live stream ended: client too far behind');
      raw.destroy();
    } else raw.end();
  }
}
