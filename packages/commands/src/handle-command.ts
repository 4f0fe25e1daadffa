// The one command handler: read the stream, fold it from `initialState` with `evolve`, call the pure
// decision, append its events at the version read, and on a version conflict decide again on what the
// other writer wrote (a few tries, small backoff). Metadata is stamped here, once, for every command.
import { currentSchemaVersion, type Fold, type PendingEvent } from '@hatch/domain';
import {
  type AppendResult,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '@hatch/event-store';
import { traceAttributes, traceMetadata, withSpan } from '@hatch/platform';

/** The part of the event log commands use (the command API passes its deadline-guarded log). */
export type CommandLog = Pick<EventStore, 'append' | 'readStream'>;

export interface CommandMetadata {
  /** The request that carried the command. */
  correlationId: string;
  /** The event or message that caused it (null: a person or client did). */
  causationId: string | null;
  idempotencyKey?: string;
  actor: string;
  /** The version of the events' schemas (default: the message events' `currentSchemaVersion`). */
  schemaVersion?: number;
}

/** A decision the handler can carry out: accepted with events to append, or any named rejection. */
export type HandledDecision = { ok: true; streamId: string; events: PendingEvent[] } | { ok: false };

/**
 * How the append is guarded:
 * - `version` (default): at the version read; a conflict re-reads and decides again, `maxAttempts` in all.
 * - `no_stream`: the stream id is new by construction (a fresh id, or one derived from the request), so
 *   nothing is read, the decision is made on the initial state and a conflict is the caller's to answer.
 * - `any`: facts in arrival order (receipts, consent changes): read and fold, append with no expectation.
 */
export type Concurrency = 'version' | 'no_stream' | 'any';

export interface CommandSpec<State, Event, D extends HandledDecision, Context> {
  streamId: string;
  fold: Fold<State, Event>;
  /** Other streams the decision depends on (read here, never written); read again on every try. */
  context?: (state: State) => Promise<Context>;
  decide: (state: State, context: Context) => D;
  metadata: CommandMetadata;
  concurrency?: Concurrency;
  maxAttempts?: number;
  /**
   * A span of this name records the append in the trace of the stream's first event (linked to the active
   * span): a receipt joins the trace of the send it answers.
   */
  traceInStream?: string;
}

export interface Handled<State, D extends HandledDecision> {
  decision: D;
  /** The state the decision was made on. */
  state: State;
  /** Null when nothing was appended (a rejection, or an accepted decision with no events). */
  result: AppendResult | null;
}

export const defaultMaxAttempts = 3;
const backoffMs = (attempt: number) => 5 * 2 ** attempt + Math.random() * 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function stampMetadata(events: readonly PendingEvent[], metadata: CommandMetadata): NewEvent[] {
  const stamped = {
    correlationId: metadata.correlationId,
    causationId: metadata.causationId,
    ...(metadata.idempotencyKey ? { idempotencyKey: metadata.idempotencyKey } : {}),
    actor: metadata.actor,
    schemaVersion: metadata.schemaVersion ?? currentSchemaVersion,
    // The active span (the HTTP request's): consumers of the log continue its trace.
    ...traceMetadata(),
  };
  return events.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: stamped }));
}

export async function handleCommand<State, Event, D extends HandledDecision, Context = undefined>(
  log: CommandLog,
  spec: CommandSpec<State, Event, D, Context>,
): Promise<Handled<State, D>> {
  const concurrency = spec.concurrency ?? 'version';
  const maxAttempts = concurrency === 'version' ? (spec.maxAttempts ?? defaultMaxAttempts) : 1;
  for (let attempt = 1; ; attempt++) {
    let state = spec.fold.initialState();
    let expected: ExpectedVersion = concurrency === 'any' ? 'any' : 'no_stream';
    let streamTrace: RecordedEvent['metadata'] | undefined;
    if (concurrency !== 'no_stream') {
      const past = await log.readStream(spec.streamId);
      streamTrace = past[0]?.metadata;
      for (const recorded of past) {
        const event = spec.fold.parse(recorded.type, recorded.data);
        if (event !== null) state = spec.fold.evolve(state, event);
      }
      const last = past.at(-1);
      if (concurrency === 'version' && last) expected = last.streamVersion;
    }
    const context = (spec.context ? await spec.context(state) : undefined) as Context;
    const decision = spec.decide(state, context);
    if (!decision.ok || decision.events.length === 0) return { decision, state, result: null };
    if (decision.streamId !== spec.streamId)
      throw new Error(`decided for ${decision.streamId} while handling ${spec.streamId}`);
    try {
      const append = () => log.append(spec.streamId, stampMetadata(decision.events, spec.metadata), expected);
      const result =
        spec.traceInStream && streamTrace?.traceparent
          ? await withSpan(
              spec.traceInStream,
              {
                parent: streamTrace,
                links: [traceMetadata()],
                attributes: {
                  'hatch.stream': spec.streamId,
                  [traceAttributes.eventType]: decision.events.map((e) => e.type).join(','),
                },
              },
              append,
            )
          : await append();
      return { decision, state, result };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || attempt >= maxAttempts) throw error;
      await sleep(backoffMs(attempt));
    }
  }
}
