// What the dispatcher needs to know about one message, folded from its stream `message-<id>`.
// The stream is the truth: a message already Sent or Failed is left alone, which is how duplicate
// deliveries of the same request and racing dispatchers are made harmless.
import { type MessageEvent, parseMessageEvent } from '@hatch/domain';
import type { RecordedEvent } from '@hatch/event-store';
import type { TraceCarrier } from '@hatch/platform';
import { isAmbiguousFailure } from './provider-client.ts';

type RequestedData = Extract<MessageEvent, { type: 'MessageRequested' }>['data'];

export interface MessageDispatchState {
  messageId: string;
  /** Version of the stream's last event (-1: no stream). The outcome is appended expecting it. */
  version: number;
  request: RequestedData | null;
  correlationId: string | null;
  /** The request's trace context (MessageRequested metadata): every attempt is a span of that trace. */
  trace: TraceCarrier | null;
  lastEventId: string | null;
  outcome: 'pending' | 'sent' | 'failed' | 'cancelled';
  /** A scheduled send (MessageRequested.sendAt) must be taken (MessageDispatchStarted) before any call. */
  scheduled: boolean;
  dispatchStarted: boolean;
  /** Provider calls made so far (circuit-open waits are not calls). */
  attempts: number;
  /** Failed calls per provider: the retry budget is per provider. */
  failuresByProvider: Record<string, number>;
  /** Providers a call went to whose result is unknown (timeout, reset, 5xx): ask them before calling again. */
  unconfirmedAt: string[];
  /** Why the last retry was scheduled (a retry's span names it). */
  lastReason: string | null;
  /** When the last scheduled retry is due (ms epoch), null when none is pending. */
  dueAtMs: number | null;
}

export const circuitOpenReason = 'circuit_open';

export function foldDispatchState(messageId: string, events: RecordedEvent[]): MessageDispatchState {
  const state: MessageDispatchState = {
    messageId,
    version: -1,
    request: null,
    correlationId: null,
    trace: null,
    lastEventId: null,
    outcome: 'pending',
    scheduled: false,
    dispatchStarted: false,
    attempts: 0,
    failuresByProvider: {},
    unconfirmedAt: [],
    dueAtMs: null,
    lastReason: null,
  };
  for (const recorded of events) {
    state.version = recorded.streamVersion;
    state.lastEventId = recorded.id;
    const event = parseMessageEvent(recorded.type, recorded.data);
    switch (event.type) {
      case 'MessageRequested':
        state.request = event.data;
        state.correlationId = recorded.metadata.correlationId;
        state.trace = recorded.metadata.traceparent
          ? { traceparent: recorded.metadata.traceparent, tracestate: recorded.metadata.tracestate }
          : null;
        if (event.data.sendAt) {
          state.scheduled = true;
          state.dueAtMs = Date.parse(event.data.sendAt);
        }
        break;
      case 'MessageDispatchStarted':
        state.dispatchStarted = true;
        break;
      case 'MessageCancelled':
        if (!state.dispatchStarted && state.outcome === 'pending') state.outcome = 'cancelled';
        break;
      case 'MessageRetryScheduled':
        state.dueAtMs = Date.parse(event.data.dueAt);
        state.lastReason = event.data.reason;
        if (event.data.reason !== circuitOpenReason) {
          state.attempts++;
          state.failuresByProvider[event.data.provider] = (state.failuresByProvider[event.data.provider] ?? 0) + 1;
          if (
            isAmbiguousFailure(event.data.reason, event.data.providerStatus) &&
            !state.unconfirmedAt.includes(event.data.provider)
          )
            state.unconfirmedAt.push(event.data.provider);
        }
        break;
      case 'MessageSent':
        state.outcome = 'sent';
        state.dueAtMs = null;
        break;
      // A receipt is no outcome of ours: until a MessageSent is recorded the send is still owed (a receipt
      // that beat our append, or one naming another send, must not end the dispatch).
      case 'MessageDelivered':
      case 'MessageUndelivered':
        break;
      case 'MessageFailed':
        state.outcome = 'failed';
        state.dueAtMs = null;
        break;
      case 'MessageReceived':
        break;
    }
  }
  return state;
}
