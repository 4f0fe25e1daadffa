// Every command waits for its event to be durable, but never forever: when PostgreSQL is away or slow
// the client gets 503 + Retry-After within `timeoutMs` instead of a hung request. Nothing is answered
// as accepted unless the append committed.
import type {
  AppendResult,
  EventStore,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  RecordedEvent,
} from '@hatch/event-store';
import { EventIdConflictError, WrongExpectedVersionError } from '@hatch/event-store';
import { Problem } from '@hatch/http';

export class LogUnavailable extends Problem {
  constructor(detail: string) {
    super(503, 'log-unavailable', 'Service Unavailable', { detail }, { 'retry-after': '1' });
  }
}

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
  const unavailable = (error: unknown): never => {
    if (isDecisionError(error)) throw error;
    throw new LogUnavailable(
      'the event log is unreachable; retry shortly (with the same Idempotency-Key, a retry is safe)',
    );
  };
  return {
    append(streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult> {
      return withDeadline(store.append(streamId, events, expected), timeoutMs, 'the event log').catch(unavailable);
    },
    readStream(streamId: string): Promise<RecordedEvent[]> {
      return withDeadline(store.readStream(streamId), timeoutMs, 'the event log').catch(unavailable);
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
