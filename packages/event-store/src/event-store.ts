// The event-log port. Every adapter (PostgreSQL, EventStoreDB) implements it and passes
// the one contract suite in ./contract.
import { z } from 'zod';

export const eventMetadataSchema = z.object({
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  idempotencyKey: z.string().min(1).optional(),
  actor: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  /** W3C trace context of the work that appended the event (absent when nothing was traced). */
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
  tracestate: z.string().max(512).optional(),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

export interface NewEvent<Type extends string = string, Data = unknown> {
  /** UUID; deterministic where the outside world retries, so a re-append is a no-op. */
  id: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> extends NewEvent<Type, Data> {
  streamId: string;
  /** 0 for a stream's first event. */
  streamVersion: number;
  /** Opaque, comparable (lexicographically ordered) global position. */
  position: LogPosition;
  recordedAt: string;
}

/** Opaque at the port; compare with `<`/`>` on the strings. */
export type LogPosition = string;

/** `no_stream`: the stream must not exist; `stream_exists`: it must; a number: the version of its last event. */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendResult {
  /** Version of the stream's last event after the append. */
  nextExpectedVersion: number;
  /** Position of the last appended event. */
  position: LogPosition;
  /** True when the events were already in the log: nothing was written, this is the original result. */
  duplicate: boolean;
}

export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number | null,
  ) {
    super(`stream ${streamId}: expected version ${String(expected)}, actual ${actual ?? 'no stream'}`);
  }
}

/** Event ids reused for a different stream or a different set of events. */
export class EventIdConflictError extends Error {
  override readonly name = 'EventIdConflictError';
  constructor(readonly streamId: string) {
    super(`stream ${streamId}: event ids already used by other events`);
  }
}

/**
 * The append was never written: it was withdrawn before any write began (its caller gave up), or refused
 * because the queue of pending appends is full. Retrying is always safe.
 */
export class AppendNotWrittenError extends Error {
  override readonly name = 'AppendNotWrittenError';
  constructor(
    readonly streamId: string,
    readonly reason: 'withdrawn' | 'queue_full',
  ) {
    super(
      `stream ${streamId}: append not written (${reason === 'withdrawn' ? 'withdrawn before writing' : 'too many appends pending'})`,
    );
  }
}

/** The connection died while the append was being written: it may or may not have committed. */
export class AppendOutcomeUnknownError extends Error {
  override readonly name = 'AppendOutcomeUnknownError';
  constructor(
    readonly streamId: string,
    override readonly cause: unknown,
  ) {
    super(`stream ${streamId}: the connection was lost while writing; the append may have committed`);
  }
}

export interface AppendOptions {
  /**
   * Aborting withdraws the append if no write has begun (it then rejects with AppendNotWrittenError);
   * once written, it runs to its outcome. Adapters that cannot withdraw ignore it.
   */
  signal?: AbortSignal;
}

export interface ReadAllOptions {
  /** Exclusive; omit or null to start at the beginning of the log. */
  after?: LogPosition | null;
  /** Stream category: the part of the stream id before the first `-` (e.g. `message`). */
  category?: string;
  limit?: number;
}

export interface SubscribeOptions extends Omit<ReadAllOptions, 'limit'> {
  batchSize?: number;
  /** Called with each batch in log order; the next batch waits for it. A throw stops the subscription. */
  handler: (events: RecordedEvent[]) => Promise<void>;
  onError?: (error: unknown) => void;
}

export interface Subscription {
  /** Position of the last event handed to the handler (or the start position). */
  readonly position: LogPosition | null;
  /** Resolves when the subscription has stopped (after `stop()` or a handler error). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export interface EventStore {
  append(
    streamId: string,
    events: NewEvent[],
    expectedVersion?: ExpectedVersion,
    options?: AppendOptions,
  ): Promise<AppendResult>;
  readStream(streamId: string, options?: { fromVersion?: number; maxCount?: number }): Promise<RecordedEvent[]>;
  /** Several whole streams at once (one round trip where the adapter can); every id is a key, a missing stream maps to []. */
  readStreams(streamIds: string[]): Promise<Map<string, RecordedEvent[]>>;
  /** Events in global log order; never returns an event before one that precedes it in that order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(options: SubscribeOptions): Subscription;
  /** Position of the newest event visible to readers, or null for an empty log. */
  headPosition(): Promise<LogPosition | null>;
  close(): Promise<void>;
}

export const streamCategory = (streamId: string) => streamId.split('-', 1)[0] ?? streamId;
