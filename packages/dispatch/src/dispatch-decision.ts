// The pure decisions of one dispatch attempt: which provider to call (or why none), and which event
// records the call's result. No I/O: time, randomness and breaker permission come in as arguments.
import type { MessageEventOf } from '@hatch/domain';
import { circuitOpenReason, type MessageDispatchState } from './message-dispatch-state.ts';
import { type Classified, isAmbiguousFailure } from './provider-client.ts';
import { backoffDelayMs, type RetryPolicy } from './retry-policy.ts';

export type AttemptPlan =
  | { kind: 'nothing'; why: 'not_found' | 'not_outbound' | 'already_sent' | 'already_failed' | 'cancelled' }
  | { kind: 'not_due'; dueAtMs: number }
  | { kind: 'call'; provider: string }
  | { kind: 'record'; event: OutcomeEvent };

export type OutcomeEvent =
  | MessageEventOf<'MessageSent'>
  | MessageEventOf<'MessageRetryScheduled'>
  | MessageEventOf<'MessageFailed'>;

export interface ProviderGate {
  /** Takes permission to call the provider now (its circuit breaker); false when it is open. */
  tryAcquire(provider: string): boolean;
  /** When an open breaker lets calls through again (ms epoch). */
  reopensAt(provider: string): number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The retry deadline counts from when the message was due: its request, or its scheduled send time. */
const dispatchFromMs = (state: MessageDispatchState, fallbackMs = Date.now()) =>
  state.request ? Date.parse(state.request.sendAt ?? state.request.requestedAt) : fallbackMs;

const hasBudget = (state: MessageDispatchState, provider: string, policy: RetryPolicy) =>
  (state.failuresByProvider[provider] ?? 0) < policy.maxAttemptsPerProvider;

/** `route`: the channel's providers, primary first. */
export function planAttempt(
  state: MessageDispatchState,
  route: readonly string[],
  gate: ProviderGate,
  policy: RetryPolicy,
  nowMs: number,
): AttemptPlan {
  if (state.version < 0) return { kind: 'nothing', why: 'not_found' };
  if (!state.request) return { kind: 'nothing', why: 'not_outbound' };
  if (state.outcome === 'sent') return { kind: 'nothing', why: 'already_sent' };
  if (state.outcome === 'failed') return { kind: 'nothing', why: 'already_failed' };
  if (state.outcome === 'cancelled') return { kind: 'nothing', why: 'cancelled' };
  if (state.dueAtMs !== null && state.dueAtMs > nowMs) return { kind: 'not_due', dueAtMs: state.dueAtMs };

  const { messageId } = state;
  const fail = (reason: string, provider: string | null): AttemptPlan => ({
    kind: 'record',
    event: {
      type: 'MessageFailed',
      data: { messageId, reason, attempts: state.attempts, provider, providerStatus: null, failedAt: iso(nowMs) },
    },
  });
  if (nowMs - dispatchFromMs(state) > policy.deadlineMs) return fail('deadline_exceeded', null);

  const candidates = route.filter((p) => hasBudget(state, p, policy));
  if (candidates.length === 0) return fail('attempts_exhausted', route.at(-1) ?? null);
  for (const provider of candidates) {
    if (gate.tryAcquire(provider)) return { kind: 'call', provider };
  }
  // Every provider with budget left is refusing calls: wait for the first breaker to let a probe through.
  const reopen = Math.min(...candidates.map((p) => gate.reopensAt(p) ?? nowMs));
  return {
    kind: 'record',
    event: {
      type: 'MessageRetryScheduled',
      data: {
        messageId,
        provider: candidates[0] as string,
        attempt: state.attempts + 1,
        reason: circuitOpenReason,
        providerStatus: null,
        dueAt: iso(Math.max(reopen, nowMs)),
        scheduledAt: iso(nowMs),
      },
    },
  };
}

/** The event that records a call to `provider` and its classified result. */
export function outcomeOfCall(
  state: MessageDispatchState,
  provider: string,
  result: Classified,
  route: readonly string[],
  policy: RetryPolicy,
  nowMs: number,
  random: () => number,
): OutcomeEvent {
  const { messageId } = state;
  const attempt = state.attempts + 1;
  if (result.kind === 'accepted') {
    return {
      type: 'MessageSent',
      data: { messageId, provider, providerMessageId: result.providerMessageId, attempt, sentAt: iso(nowMs) },
    };
  }
  const failed = (reason: string, providerStatus: number | null): OutcomeEvent => ({
    type: 'MessageFailed',
    data: { messageId, reason, attempts: attempt, provider, providerStatus, failedAt: iso(nowMs) },
  });
  if (result.kind === 'rejected') return failed(result.reason, result.providerStatus);

  const failures = (state.failuresByProvider[provider] ?? 0) + 1;
  const after = { ...state, failuresByProvider: { ...state.failuresByProvider, [provider]: failures } };
  let delayMs: number;
  if (failures < policy.maxAttemptsPerProvider) {
    delayMs = result.retryAfterMs ?? backoffDelayMs(failures, policy, random);
  } else if (route.some((p) => p !== provider && hasBudget(after, p, policy))) {
    delayMs = 0; // this provider's budget is spent: the backup takes the next attempt at once
  } else {
    return failed(`attempts_exhausted: ${result.reason}`, result.providerStatus);
  }
  if (nowMs + delayMs - dispatchFromMs(state, nowMs) > policy.deadlineMs) {
    return failed(`deadline_exceeded: ${result.reason}`, result.providerStatus);
  }
  return {
    type: 'MessageRetryScheduled',
    data: {
      messageId,
      provider,
      attempt,
      reason: result.reason,
      providerStatus: result.providerStatus,
      dueAt: iso(nowMs + delayMs),
      scheduledAt: iso(nowMs),
    },
  };
}

/** Clock skew allowed between us and a provider when a lookup matches on the time of a send. */
export const lookupSkewMs = 5 * 60_000;

/**
 * Which providers to ask whether they already have the message before calling any of them: those a call
 * with an unknown result went to, or, after a lapsed lease (the dispatcher that held it crashed or hung,
 * possibly mid-call, and the log cannot say), every provider of the channel.
 */
export function providersToAsk(
  state: MessageDispatchState,
  route: readonly string[],
  options: { afterLapsedLease?: boolean } = {},
): string[] {
  if (state.outcome !== 'pending' || !state.request || state.version < 0) return [];
  if (options.afterLapsedLease) return [...route];
  return route.filter((p) => state.unconfirmedAt.includes(p));
}

/** Whether to ask the provider before recording `event` for `result`: never fail a message it may have sent. */
export const askBeforeRecording = (result: Classified, event: OutcomeEvent): boolean =>
  event.type === 'MessageFailed' &&
  result.kind === 'retryable' &&
  isAmbiguousFailure(result.reason, result.providerStatus);

/** The earliest instant a call for this message can have reached a provider (lookups ignore older sends). */
export const lookupSinceMs = (state: MessageDispatchState, nowMs: number) =>
  dispatchFromMs(state, nowMs) - lookupSkewMs;

/** The provider turned out to have the message: record it as sent by that earlier call, never call again. */
export function sentFoundByLookup(
  state: MessageDispatchState,
  provider: string,
  providerMessageId: string,
  nowMs: number,
): OutcomeEvent {
  return {
    type: 'MessageSent',
    data: {
      messageId: state.messageId,
      provider,
      providerMessageId,
      attempt: Math.max(1, state.attempts),
      sentAt: iso(nowMs),
    },
  };
}
