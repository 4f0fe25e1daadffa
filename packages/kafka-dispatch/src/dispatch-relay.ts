// The relay: reads MessageRequested and MessageRetryScheduled from the log (category `message`) and
// publishes one dispatch record per event to the dispatch topic, keyed by conversation id so one
// conversation's sends stay on one partition, in log order.
//
// Publish first, then checkpoint: a crash between the two republishes at most the last batch
// (at-least-once); consumers are idempotent because the dispatcher re-reads the message stream and
// appends with the expected version. A clean stop or restart publishes nothing twice.
//
// Work that is not due yet (a send scheduled for next month, a retry in an hour) is not published early:
// with `deferred`, it is kept in the schedule table (before the checkpoint moves past it) and published
// when it falls due, so consumers never hold long timers or uncommitted offsets.
import { messageStreamId } from '@hatch/domain';
import {
  type EventStore,
  isPoisonError,
  type LogPosition,
  type QuarantinedEvent,
  quarantineEntry,
  type RecordedEvent,
  StaleCheckpointError,
} from '@hatch/event-store';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { DeferredDispatch, DeferredDispatches } from './deferred-dispatches.ts';
import {
  type DispatchRecord,
  dispatchEventTypes,
  dispatchRecordSchema,
  encodeDispatchRecord,
} from './dispatch-record.ts';
import { type DispatchLogger, silentLogger } from './logger.ts';
import type { RelayCheckpoint } from './relay-checkpoint.ts';

export interface DispatchRelayOptions {
  store: EventStore;
  kafka: Kafka;
  topic: string;
  checkpoint: RelayCheckpoint;
  /** Events read (and records sent) per batch (default 1000: one awaited send per batch). */
  batchSize?: number;
  logger?: DispatchLogger;
  /** Where records not due yet wait (without it they are published at once, and consumers wait). */
  deferred?: DeferredDispatches;
  /** Records due within this are published at once (default 1000 ms). */
  dueLeadMs?: number;
  /** How often the deferred records are checked (default 500 ms). */
  duePollMs?: number;
  now?: () => number;
  /**
   * Records events that cannot become a dispatch record (no message id, an unreadable due time, a value the
   * deferred table refuses) in projection_quarantine, before the checkpoint moves past them. They are skipped
   * either way: one poison event must not stop every later send behind it.
   */
  quarantine?: (entries: QuarantinedEvent[]) => Promise<void>;
}

/** The relay's name in projection_quarantine. */
export const relayQuarantineName = 'kafka-dispatch-relay';

export interface DispatchRelay {
  /** Last log position published and checkpointed. */
  readonly position: LogPosition | null;
  /** Records published since start. */
  readonly published: number;
  /** Of those, records that waited in the deferred schedule. */
  readonly deferredPublished: number;
  /** Events set aside as poison since start. */
  readonly quarantined: number;
  /** Resolves when the relay stopped: after stop(), or when another relay took over the checkpoint. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

const traceHeaders = (metadata: RecordedEvent['metadata']): Record<string, string> => ({
  ...(metadata.traceparent ? { traceparent: metadata.traceparent } : {}),
  ...(metadata.tracestate ? { tracestate: metadata.tracestate } : {}),
});

const isDispatchEvent = (type: string): type is DispatchRecord['eventType'] =>
  (dispatchEventTypes as readonly string[]).includes(type);

/**
 * Keeps the records for later; when the table refuses the batch for a non-transient reason, one by one, and
 * returns the refused ones as poison.
 */
async function deferAll(
  deferred: DeferredDispatches,
  later: Array<DeferredDispatch & { event: RecordedEvent }>,
): Promise<QuarantinedEvent[]> {
  if (later.length === 0) return [];
  try {
    await deferred.add(later.map(({ key, record, dueAtMs }) => ({ key, record, dueAtMs })));
    return [];
  } catch (error) {
    if (!isPoisonError(error)) throw error;
    const [only] = later;
    if (later.length === 1 && only) return [quarantineEntry(relayQuarantineName, only.event, error)];
  }
  const poison: QuarantinedEvent[] = [];
  for (const item of later) poison.push(...(await deferAll(deferred, [item])));
  return poison;
}

export async function startDispatchRelay(options: DispatchRelayOptions): Promise<DispatchRelay> {
  const logger = options.logger ?? silentLogger;
  const producer: Producer = options.kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true, // broker drops the producer's own retried sends
    maxInFlightRequests: 1,
  });
  await producer.connect();
  let checkpointed = await options.checkpoint.load();
  let published = 0;
  let stopped = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  // Retries carry no conversation id: find it in the same batch or in the message's first event.
  const conversationOf = async (messageId: string, batch: Map<string, string>) => {
    const known = batch.get(messageId);
    if (known) return known;
    const [requested] = await options.store.readStream(messageStreamId(messageId), { maxCount: 1 });
    const conversationId = (requested?.data as { conversationId?: string } | undefined)?.conversationId;
    return conversationId ?? messageId;
  };

  const now = options.now ?? Date.now;
  const dueLeadMs = options.dueLeadMs ?? 1000;
  let quarantined = 0;
  const publish = async (events: RecordedEvent[]) => {
    const conversations = new Map<string, string>();
    const messages = [];
    const later: Array<DeferredDispatch & { event: RecordedEvent }> = [];
    const poison: QuarantinedEvent[] = [];
    for (const event of events) {
      if (!isDispatchEvent(event.type)) continue;
      const data = (event.data ?? {}) as {
        messageId?: string;
        conversationId?: string;
        dueAt?: string;
        sendAt?: string;
      };
      // A scheduled send is due at its send_at, a retry at its dueAt.
      const parsed = dispatchRecordSchema.safeParse({
        messageId: data.messageId,
        eventType: event.type,
        eventId: event.id,
        position: event.position,
        dueAt: event.type === 'MessageRetryScheduled' ? (data.dueAt ?? null) : (data.sendAt ?? null),
      });
      const dueAtMs = parsed.success && parsed.data.dueAt ? Date.parse(parsed.data.dueAt) : null;
      if (!parsed.success || (dueAtMs !== null && !Number.isFinite(dueAtMs))) {
        poison.push(
          quarantineEntry(relayQuarantineName, event, new Error(parsed.error?.message ?? 'unreadable due time')),
        );
        continue;
      }
      const record: DispatchRecord = parsed.data;
      if (data.conversationId) conversations.set(record.messageId, data.conversationId);
      const key = await conversationOf(record.messageId, conversations);
      if (options.deferred && dueAtMs !== null && dueAtMs - now() > dueLeadMs) {
        later.push({ key, record, dueAtMs, event });
        continue;
      }
      // The event's W3C trace context: the consumer's span continues the request's trace.
      messages.push({
        key,
        value: encodeDispatchRecord(record),
        headers: { 'event-type': event.type, ...traceHeaders(event.metadata) },
      });
    }
    if (options.deferred) poison.push(...(await deferAll(options.deferred, later)));
    if (messages.length > 0) await producer.send({ topic: options.topic, acks: -1, messages });
    if (poison.length > 0) {
      await options.quarantine?.(poison);
      for (const entry of poison) logger.error({ quarantined: entry }, 'dispatch relay quarantined an event');
      quarantined += poison.length;
    }
    const position = (events.at(-1) as RecordedEvent).position;
    await options.checkpoint.store(position, checkpointed);
    checkpointed = position;
    published += messages.length;
  };

  const subscription = options.store.subscribe({
    after: checkpointed,
    category: 'message',
    batchSize: options.batchSize ?? 1000,
    handler: publish,
    onError: (error) => {
      if (error instanceof StaleCheckpointError) {
        logger.warn({ err: error }, 'another relay owns the dispatch checkpoint: stopping');
        void relay.stop();
        return;
      }
      // Kafka or the log hiccuped: the subscription retries the same batch.
      logger.error({ err: error }, 'dispatch relay batch failed; retrying');
    },
  });

  // Publishes what fell due, then forgets it (a crash in between republishes it: at-least-once).
  let deferredPublished = 0;
  const publishDue = async (deferred: DeferredDispatches) => {
    for (;;) {
      const due = await deferred.due(now() + dueLeadMs, 500);
      if (due.length === 0) return;
      await producer.send({
        topic: options.topic,
        acks: -1,
        messages: due.map((d) => ({
          key: d.key,
          value: encodeDispatchRecord(d.record),
          headers: { 'event-type': d.record.eventType },
        })),
      });
      await deferred.remove(due.map((d) => d.record.eventId));
      deferredPublished += due.length;
      published += due.length;
    }
  };
  let duePass: Promise<void> = Promise.resolve();
  const dueTimer = options.deferred
    ? setInterval(() => {
        const deferred = options.deferred as DeferredDispatches;
        duePass = duePass
          .then(() => (stopped ? undefined : publishDue(deferred)))
          .catch((error: unknown) => logger.error({ err: error }, 'publishing due dispatch records failed; retrying'));
      }, options.duePollMs ?? 500)
    : null;

  const relay: DispatchRelay = {
    get position() {
      return checkpointed;
    },
    get published() {
      return published;
    },
    get deferredPublished() {
      return deferredPublished;
    },
    get quarantined() {
      return quarantined;
    },
    done,
    async stop() {
      if (stopped) return done;
      stopped = true;
      if (dueTimer) clearInterval(dueTimer);
      await subscription.stop();
      await duePass;
      await producer.disconnect();
      resolveDone();
    },
  };
  void subscription.done.catch((error: unknown) => {
    logger.error({ err: error }, 'dispatch relay stopped');
    void relay.stop();
  });
  logger.info({ topic: options.topic, from: checkpointed }, 'dispatch relay started');
  return relay;
}
