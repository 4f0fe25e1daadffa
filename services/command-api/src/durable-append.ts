// Every command waits for its event to be durable, but never forever, and every answer is true:
// - an append still waiting for a write when `timeoutMs` runs out is withdrawn: 503 + Retry-After, and
//   nothing was written (also when the pending queue is full, or PostgreSQL cannot be reached);
// - an append already being written is waited for (the pools' statement_timeout bounds the write) and
//   answers its real outcome;
// - when the connection died mid-write, or the write outlives a second `timeoutMs`, the outcome is unknown:
//   504 `append-outcome-unknown`, retry with the same Idempotency-Key (the send answers carry one).
import type {
  AppendResult,
  EventStore,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  RecordedEvent,
} from '@hatch/event-store';
import {
  AppendNotWrittenError,
  AppendOutcomeUnknownError,
  batchedStreamReads,
  EventIdConflictError,
  WrongExpectedVersionError,
} from '@hatch/event-store';
import { Problem } from '@hatch/http';

export class LogUnavailable extends Problem {
  constructor(detail: string) {
    super(503, 'log-unavailable', 'Service Unavailable', { detail }, { 'retry-after': '1' });
  }
}

/** The append may have committed: only a retry with the same idempotency key tells. */
export class AppendOutcomeUnknown extends Problem {
  constructor(detail: string) {
    super(504, 'append-outcome-unknown', 'Outcome unknown', { detail }, { 'retry-after': '1' });
  }
}

const unknownOutcome = () =>
  new AppendOutcomeUnknown(
    'the event log lost the connection while writing; the request may have been accepted: retry with the same Idempotency-Key',
  );

function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LogUnavailable(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const isDecisionError = (error: unknown) =>
  error instanceof WrongExpectedVersionError || error instanceof EventIdConflictError || error instanceof Problem;

export function durableLog(store: EventStore, timeoutMs: number) {
  // Every send reads its consent stream: reads in flight together share one query (see batchedStreamReads).
  const readBatched = batchedStreamReads(store);
  const unavailable = (error: unknown): never => {
    if (isDecisionError(error)) throw error;
    throw new LogUnavailable('the event log is unreachable; nothing was accepted, retry shortly');
  };
  return {
    async append(streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
      const withdraw = new AbortController();
      const work = store.append(streamId, events, expected, { signal: withdraw.signal });
      const timer = setTimeout(() => withdraw.abort(), timeoutMs);
      try {
        // After the withdrawal an adapter that could not withdraw gets one more `timeoutMs` to say how it went.
        return await withDeadline(work, 2 * timeoutMs, 'the event log');
      } catch (error) {
        if (error instanceof AppendNotWrittenError)
          throw new LogUnavailable(
            error.reason === 'queue_full'
              ? 'too many requests are waiting for the event log; nothing was accepted, retry shortly'
              : `the event log did not answer within ${timeoutMs} ms; nothing was accepted, retry shortly`,
          );
        if (error instanceof AppendOutcomeUnknownError || (error instanceof LogUnavailable && withdraw.signal.aborted))
          throw unknownOutcome();
        return unavailable(error);
      } finally {
        clearTimeout(timer);
      }
    },
    readStream(streamId: string): Promise<RecordedEvent[]> {
      return withDeadline(readBatched(streamId), timeoutMs, 'the event log').catch(unavailable);
    },
    readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
      return withDeadline(store.readAll(options), timeoutMs, 'the event log').catch(unavailable);
    },
    async ready(): Promise<boolean> {
      return withDeadline(store.headPosition(), Math.min(timeoutMs, 1000), 'the event log').then(
        () => true,
        () => false,
      );
    },
  };
}

export type DurableLog = ReturnType<typeof durableLog>;
