// EventStoreDB (KurrentDB) adapter of the event log.
//
// Appends use the stream's expected revision. EventStoreDB only de-duplicates event ids within a
// stream and does not say whether a write was a duplicate, while the port promises both "a re-append
// is a no-op that says so" and "an id reused in another stream is refused". So every append first
// claims its first event id in a tiny claim stream (`hatch.claim-<eventId>`, expected no_stream) that
// records the target stream and all event ids; a second append with that id reads the claim instead of
// writing twice. Claims (and EventStoreDB's own `$` streams) are invisible to reads and subscriptions.
//
// Positions are the ($all) commit/prepare pair, zero-padded (see ./log-position.ts). readAll has no
// server-side filter in this client version, so category reads filter on the client; subscriptions
// use a server-side stream-name filter.
import {
  type AllStreamResolvedEvent,
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  EventStoreDBClient,
  FORWARDS,
  type JSONType,
  jsonEvent,
  NO_STREAM,
  type Position,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
} from '@eventstore/db-client';
import {
  type AppendResult,
  EventIdConflictError,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  type LogPosition,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  streamCategory,
  WrongExpectedVersionError,
} from '../event-store.ts';
import { formatEsdbPosition, parseEsdbPosition } from './log-position.ts';

export interface EventStoreDbEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false` */
  connectionString: string;
}

const claimPrefix = 'hatch.claim-';
const claimType = 'EventIdsClaimed';
/** Stream names readers see: not EventStoreDB's own (`$…`) and not our claims. */
const visibleStreamsRegex = `^(?!\\$|${claimPrefix.replace('.', '\\.')})`;
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const isVisibleStream = (streamId: string) => !streamId.startsWith('$') && !streamId.startsWith(claimPrefix);
const inCategory = (streamId: string, category: string | undefined) =>
  category === undefined || streamCategory(streamId) === category;

interface Claim {
  streamId: string;
  eventIds: string[];
}

const toRevision = (expected: ExpectedVersion): AppendExpectedRevision => {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  if (!Number.isInteger(expected) || expected < 0) throw new RangeError(`invalid expected version ${expected}`);
  return BigInt(expected);
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event?.isJson || !event.position) return null;
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata as unknown as EventMetadata,
    streamId: event.streamId,
    streamVersion: Number(event.revision),
    position: formatEsdbPosition(event.position as Position),
    recordedAt: event.created.toISOString(),
  };
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: EventStoreDbEventStoreOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
  }

  async append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion = 'any'): Promise<AppendResult> {
    if (this.closed) throw new Error('event store is closed');
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const expectedRevision = toRevision(expectedVersion);
    const eventIds = events.map((e) => e.id);

    const earlier = await this.claim(streamId, eventIds);
    if (earlier) {
      const sameAppend = earlier.streamId === streamId && earlier.eventIds.join() === eventIds.join();
      if (!sameAppend) throw new EventIdConflictError(streamId);
      const original = await this.findAppended(streamId, eventIds);
      if (original) return { ...original, duplicate: true };
      // The earlier attempt claimed the ids and stopped before writing: write now.
    }

    let result: Awaited<ReturnType<EventStoreDBClient['appendToStream']>>;
    try {
      result = await this.client.appendToStream(
        streamId,
        events.map((e) =>
          jsonEvent({
            id: e.id,
            type: e.type,
            data: e.data as JSONType,
            metadata: e.metadata as unknown as JSONType,
          }),
        ),
        { expectedRevision },
      );
    } catch (error) {
      if (error instanceof EsdbWrongExpectedVersionError) {
        const actual = error.actualVersion === NO_STREAM ? null : Number(error.actualVersion);
        throw new WrongExpectedVersionError(streamId, expectedVersion, actual);
      }
      throw error;
    }
    const nextExpectedVersion = Number(result.nextExpectedRevision);
    // The write result's position is the write's, which for several events is not the last event's.
    if (events.length === 1 && result.position) {
      return { nextExpectedVersion, position: formatEsdbPosition(result.position), duplicate: false };
    }
    const [last] = await this.readStreamRaw(streamId, { fromRevision: result.nextExpectedRevision, maxCount: 1 });
    if (!last) throw new Error(`stream ${streamId}: appended events not readable`);
    return { nextExpectedVersion, position: last.position, duplicate: false };
  }

  /** Claims the append's event ids; returns the earlier claim when they were already claimed. */
  private async claim(streamId: string, eventIds: string[]): Promise<Claim | null> {
    const claimStream = `${claimPrefix}${eventIds[0]}`;
    const claim: Claim = { streamId, eventIds };
    try {
      await this.client.appendToStream(claimStream, jsonEvent({ type: claimType, data: { ...claim } }), {
        expectedRevision: NO_STREAM,
      });
      return null;
    } catch (error) {
      if (!(error instanceof EsdbWrongExpectedVersionError)) throw error;
    }
    for await (const resolved of this.client.readStream(claimStream, { maxCount: 1, direction: FORWARDS })) {
      return resolved.event?.data as unknown as Claim;
    }
    throw new Error(`claim ${claimStream} exists but cannot be read`);
  }

  /** The result of an earlier append of exactly these events, or null when they are not in the stream. */
  private async findAppended(streamId: string, eventIds: string[]) {
    const wanted = new Set(eventIds);
    const found = (await this.readStream(streamId)).filter((e) => wanted.has(e.id));
    if (found.length === 0) return null;
    if (found.length !== eventIds.length) throw new EventIdConflictError(streamId);
    const last = found.at(-1) as RecordedEvent;
    return { nextExpectedVersion: last.streamVersion, position: last.position };
  }

  private async readStreamRaw(streamId: string, options: { fromRevision: bigint; maxCount: number }) {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, { ...options, direction: FORWARDS })) {
        const recorded = toRecorded(resolved);
        if (recorded) events.push(recorded);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  readStream(streamId: string, options: { fromVersion?: number; maxCount?: number } = {}) {
    return this.readStreamRaw(streamId, {
      fromRevision: BigInt(options.fromVersion ?? 0),
      maxCount: options.maxCount ?? 1_000_000,
    });
  }

  /** EventStoreDB reads one stream per call: the reads run in parallel. */
  async readStreams(streamIds: string[]) {
    const unique = [...new Set(streamIds)];
    const streams = await Promise.all(unique.map((id) => this.readStream(id)));
    return new Map(unique.map((id, i) => [id, streams[i] ?? []]));
  }

  async readAll(options: ReadAllOptions = {}) {
    const limit = options.limit ?? 1000;
    const chunk = Math.min(Math.max(limit, 500), 5000);
    const events: RecordedEvent[] = [];
    // Exclusive cursor: readAll starts at (not after) the position it is given.
    let cursor: LogPosition | null = options.after ?? null;
    for (;;) {
      let read = 0;
      for await (const resolved of this.client.readAll({
        fromPosition: cursor ? parseEsdbPosition(cursor) : START,
        maxCount: chunk,
        direction: FORWARDS,
      })) {
        read++;
        const event = resolved.event;
        if (!event?.position) continue;
        const position = formatEsdbPosition(event.position);
        if (cursor !== null && position <= cursor) continue;
        cursor = position;
        if (!isVisibleStream(event.streamId) || !inCategory(event.streamId, options.category)) continue;
        const recorded = toRecorded(resolved);
        if (!recorded) continue;
        events.push(recorded);
        if (events.length >= limit) return events;
      }
      if (read < chunk) return events;
    }
  }

  async headPosition(): Promise<LogPosition | null> {
    let from: Position | typeof END = END;
    for (;;) {
      let read = 0;
      const page = this.client.readAll({ fromPosition: from, maxCount: 100, direction: BACKWARDS });
      for await (const resolved of page as AsyncIterable<AllStreamResolvedEvent>) {
        read++;
        const event: AllStreamResolvedEvent['event'] = resolved.event;
        if (!event?.position) continue;
        if (isVisibleStream(event.streamId) && event.isJson) return formatEsdbPosition(event.position);
        from = event.position;
      }
      if (read < 100) return null;
    }
  }

  subscribe(options: SubscribeOptions): Subscription {
    const batchSize = options.batchSize ?? 500;
    const after = options.after ?? null;
    let position: LogPosition | null = after;
    let running = true;
    let current: ReturnType<EventStoreDBClient['subscribeToAll']> | null = null;
    const filter = streamNameFilter({
      regex: options.category ? `^${escapeRegex(options.category)}(-|$)` : visibleStreamsRegex,
    });

    const run = async () => {
      while (running) {
        const source = this.client.subscribeToAll({
          fromPosition: position ? parseEsdbPosition(position) : START,
          filter,
        });
        current = source;
        const buffer: RecordedEvent[] = [];
        let ended = false;
        let failure: unknown = null;
        let wake: (() => void) | null = null;
        const signal = () => {
          wake?.();
          wake = null;
        };
        // Reads the subscription into a small buffer; pausing the loop when it is full is the backpressure.
        const reader = (async () => {
          try {
            for await (const resolved of source) {
              const recorded = toRecorded(resolved);
              if (!recorded || !isVisibleStream(recorded.streamId)) continue;
              if (!inCategory(recorded.streamId, options.category)) continue;
              if (position !== null && recorded.position <= position) continue;
              buffer.push(recorded);
              signal();
              while (running && buffer.length >= batchSize * 2) await sleep(5);
              if (!running) break;
            }
          } catch (error) {
            failure = error;
          } finally {
            ended = true;
            signal();
          }
        })();
        try {
          while (running) {
            if (buffer.length === 0) {
              if (ended) break;
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              continue;
            }
            const batch = buffer.splice(0, batchSize);
            await options.handler(batch);
            position = (batch.at(-1) as RecordedEvent).position;
          }
        } finally {
          await source.unsubscribe().catch(() => {});
          await reader;
        }
        if (!running) break;
        const error = failure ?? new Error('EventStoreDB subscription ended');
        if (!options.onError) throw error;
        options.onError(error);
        await sleep(500); // then resubscribe from the last handled position
      }
    };

    const subscription: Subscription = {
      get position() {
        return position;
      },
      done: Promise.resolve(),
      stop: async () => {
        running = false;
        await current?.unsubscribe().catch(() => {});
        await done.catch(() => {});
      },
    };
    const done = run().finally(() => {
      running = false;
      this.subscriptions.delete(subscription);
    });
    Object.defineProperty(subscription, 'done', { value: done });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }
}
