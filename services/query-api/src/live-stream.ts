// Server-sent events of read-model changes. Each SSE `id` is the log position of the event, and an event is
// only sent once the read model has applied it (the watermark), so a client that queries on receipt sees
// the change. Reconnecting with `Last-Event-ID` resumes right after that position: the log order is total,
// so nothing is missed and nothing repeats.
import { isMessageEventType, type MessageEvent, messageAccountOf, parseMessageEvent } from '@hatch/domain';
import type { EventStore, RecordedEvent } from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import { occurredAt, reportedStatus } from '@hatch/projections';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountScope, ReadModel } from './read-model.ts';
import type { LiveChange } from './schemas.ts';
import type { ProjectionWatermark } from './watermark.ts';

export interface LiveStreamDeps {
  store: EventStore;
  readModel: ReadModel;
  watermark: ProjectionWatermark;
  logger: Logger;
  heartbeatMs: number;
  /** Open streams, closed when the server closes. */
  open: Set<() => void>;
}

const readBatch = 500;

export async function streamChanges(
  deps: LiveStreamDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { account: AccountScope; conversationId?: string; resumeAfter: string | null },
) {
  // Without a resume position the stream starts at what the read model shows now.
  let position = options.resumeAfter ?? (await deps.watermark.current());
  const abort = new AbortController();
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  const close = () => abort.abort();
  deps.open.add(close);
  request.raw.on('close', close);
  const write = async (chunk: string) => {
    if (abort.signal.aborted) return;
    if (!raw.write(chunk))
      await new Promise<void>((resolve) => {
        raw.once('drain', resolve);
        abort.signal.addEventListener('abort', () => resolve(), { once: true });
      });
  };
  const heartbeat = setInterval(() => void write(': heartbeat\n\n'), deps.heartbeatMs);
  try {
    await write(`retry: 1000\n: stream from ${position ?? 'the start'}\n\n`);
    while (!abort.signal.aborted) {
      const mark = await deps.watermark.waitFor(position, { signal: abort.signal });
      if (mark === null) break;
      const events = await deps.store.readAll({ after: position, limit: readBatch });
      const applied = events.filter((e) => e.position <= mark);
      if (applied.length === 0) continue;
      const changes = await toChanges(deps.readModel, applied, options);
      for (const change of changes) {
        await write(`id: ${change.position}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`);
      }
      position = (applied.at(-1) as RecordedEvent).position;
    }
  } catch (error) {
    if (!abort.signal.aborted) deps.logger.warn({ err: error }, 'live stream failed');
  } finally {
    clearInterval(heartbeat);
    deps.open.delete(close);
    request.raw.off('close', close);
    raw.end();
  }
}

async function toChanges(
  readModel: ReadModel,
  recorded: RecordedEvent[],
  filter: { account: AccountScope; conversationId?: string },
) {
  const parsed: { recorded: RecordedEvent; event: MessageEvent }[] = [];
  for (const r of recorded) {
    if (!isMessageEventType(r.type)) continue;
    try {
      parsed.push({ recorded: r, event: parseMessageEvent(r.type, r.data) });
    } catch {
      // an event the projections skip is not a change either
    }
  }
  const needLookup = parsed
    .filter((p) => p.event.type !== 'MessageRequested' && p.event.type !== 'MessageReceived')
    .map((p) => p.event.data.messageId);
  const owners = await readModel.ownersOf([...new Set(needLookup)]);
  const changes: LiveChange[] = [];
  for (const { recorded, event } of parsed) {
    const owner =
      event.type === 'MessageRequested' || event.type === 'MessageReceived'
        ? { accountId: messageAccountOf(event.data), conversationId: event.data.conversationId }
        : owners.get(event.data.messageId);
    const conversation = owner?.conversationId ?? null;
    // A receipt for a message not yet seen names no account: only the unscoped (operator) stream carries it.
    if (filter.account !== null && owner?.accountId !== filter.account) continue;
    if (filter.conversationId !== undefined && conversation !== filter.conversationId) continue;
    changes.push({
      position: recorded.position,
      type: event.type,
      messageId: event.data.messageId,
      conversationId: conversation,
      status: reportedStatus(event),
      occurredAt: occurredAt(event),
      recordedAt: recorded.recordedAt,
    });
  }
  return changes;
}
