// In-memory adapter of the event log: for unit tests (given events / when command / then events) and
// nothing else. It keeps the port's promises — expected versions, idempotent event ids, one global
// order, opaque comparable positions — and stores events as JSON, as the durable adapters do, so a
// test sees exactly what a real store would hand back (no shared object references, no Dates).
import {
  type AppendResult,
  EventIdConflictError,
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

/** Zero-padded sequence number: the strings sort like the numbers. */
const formatMemoryPosition = (sequence: number): LogPosition => String(sequence).padStart(20, '0');

const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const matchesExpected = (expected: ExpectedVersion, current: number | null): boolean => {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === null;
  if (expected === 'stream_exists') return current !== null;
  return current === expected;
};

const validateExpected = (expected: ExpectedVersion) => {
  if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 0)) {
    throw new RangeError(`invalid expected version ${expected}`);
  }
};

export interface InMemoryEventStoreOptions {
  /** Clock for `recordedAt` (default: the system clock). */
  now?: () => Date;
}

export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly byEventId = new Map<string, RecordedEvent>();
  private readonly wakeups = new Set<() => void>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly now: () => Date;
  private closed = false;

  constructor(options: InMemoryEventStoreOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  async append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion = 'any'): Promise<AppendResult> {
    if (this.closed) throw new Error('event store is closed');
    if (events.length === 0) throw new RangeError('append needs at least one event');
    validateExpected(expectedVersion);
    // Everything below runs in one turn of the event loop: an append is atomic.
    const known = events.map((e) => this.byEventId.get(e.id));
    if (known.some((e) => e !== undefined)) {
      const sameAppend = known.every((e) => e?.streamId === streamId);
      if (!sameAppend) throw new EventIdConflictError(streamId);
      const last = known.at(-1) as RecordedEvent;
      return { nextExpectedVersion: last.streamVersion, position: last.position, duplicate: true };
    }
    const stream = this.streams.get(streamId) ?? [];
    const current = stream.length === 0 ? null : stream.length - 1;
    if (!matchesExpected(expectedVersion, current)) {
      throw new WrongExpectedVersionError(streamId, expectedVersion, current);
    }
    const recordedAt = this.now().toISOString();
    for (const event of events) {
      const recorded: RecordedEvent = {
        ...viaJson({ id: event.id, type: event.type, data: event.data, metadata: event.metadata }),
        streamId,
        streamVersion: stream.length,
        position: formatMemoryPosition(this.log.length + 1),
        recordedAt,
      };
      stream.push(recorded);
      this.log.push(recorded);
      this.byEventId.set(recorded.id, recorded);
    }
    this.streams.set(streamId, stream);
    for (const wake of [...this.wakeups]) wake();
    const last = stream.at(-1) as RecordedEvent;
    return { nextExpectedVersion: last.streamVersion, position: last.position, duplicate: false };
  }

  async readStream(streamId: string, options: { fromVersion?: number; maxCount?: number } = {}) {
    const from = options.fromVersion ?? 0;
    const stream = this.streams.get(streamId) ?? [];
    return viaJson(stream.slice(from, from + (options.maxCount ?? 1_000_000)));
  }

  async readStreams(streamIds: string[]) {
    const result = new Map<string, RecordedEvent[]>();
    for (const streamId of new Set(streamIds)) result.set(streamId, await this.readStream(streamId));
    return result;
  }

  async readAll(options: ReadAllOptions = {}) {
    return viaJson(this.collect(options));
  }

  /** Synchronous, so a subscriber that finds nothing registers its wake-up before any append can run. */
  private collect(options: ReadAllOptions): RecordedEvent[] {
    const limit = options.limit ?? 1000;
    const after = options.after ?? null;
    // Positions are the 1-based index into the log, so `after` is where to start.
    const start = after === null ? 0 : Number(after);
    const found: RecordedEvent[] = [];
    for (let i = start; i < this.log.length && found.length < limit; i++) {
      const event = this.log[i] as RecordedEvent;
      if (options.category === undefined || streamCategory(event.streamId) === options.category) found.push(event);
    }
    return found;
  }

  async headPosition(): Promise<LogPosition | null> {
    return this.log.at(-1)?.position ?? null;
  }

  subscribe(options: SubscribeOptions): Subscription {
    const batchSize = options.batchSize ?? 500;
    let position: LogPosition | null = options.after ?? null;
    let running = true;
    let wake: (() => void) | null = null;
    const waitForAppend = () =>
      new Promise<void>((resolve) => {
        const wakeOnce = () => {
          this.wakeups.delete(wakeOnce);
          wake = null;
          resolve();
        };
        wake = wakeOnce;
        this.wakeups.add(wakeOnce);
      });
    // A handler error rejects `done` and ends the loop: the port's "a throw stops the subscription".
    // There are no transient read failures here, so `onError` is never called.
    const run = async () => {
      while (running) {
        const events = this.collect({ after: position, category: options.category, limit: batchSize });
        if (events.length === 0) {
          await waitForAppend();
          continue;
        }
        await options.handler(viaJson(events));
        position = (events.at(-1) as RecordedEvent).position;
      }
    };
    const done = run().finally(() => {
      running = false;
      this.subscriptions.delete(subscription);
    });
    // A handler error stops the subscription and rejects `done`; never an unhandled rejection.
    done.catch(() => {});
    const subscription: Subscription = {
      get position() {
        return position;
      },
      done,
      stop: async () => {
        running = false;
        (wake as (() => void) | null)?.();
        await done.catch(() => {});
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
  }
}
