import type { RecordedEvent } from '@hatch/event-store';
import { messageRequested } from '@hatch/testing/events';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.ts';
import { outcomeOfCall, type ProviderGate, planAttempt } from './dispatch-decision.ts';
import { foldDispatchState } from './message-dispatch-state.ts';
import { breakerSignal, classifyProviderResponse } from './provider-client.ts';
import { backoffDelayMs, parseRetryAfter, type RetryPolicy } from './retry-policy.ts';

const messageId = '6f1c2b1e-1d7a-4f4e-9a57-6a0d3f6d1c01';
const t0 = Date.parse('2026-11-25T10:00:00.000Z');
const policy: RetryPolicy = { maxAttemptsPerProvider: 2, baseDelayMs: 100, maxDelayMs: 1000, deadlineMs: 60_000 };
const route = ['messaging-provider', 'messaging-provider-backup'];
const open: ProviderGate = { tryAcquire: () => true, reopensAt: () => null };

let version = 0;
const recorded = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: `e-${version}`,
  type,
  data: { messageId, ...data },
  metadata: { correlationId: 'c', causationId: null, actor: 'test', schemaVersion: 1 },
  streamId: `message-${messageId}`,
  streamVersion: version++,
  position: String(version).padStart(10, '0'),
  recordedAt: new Date(t0).toISOString(),
});
const requested = () => {
  version = 0;
  return recorded(
    'MessageRequested',
    messageRequested({
      messageId,
      timestamp: new Date(t0).toISOString(),
      requestedAt: new Date(t0).toISOString(),
    }),
  );
};
const retry = (provider: string, reason: string, dueAtMs: number) =>
  recorded('MessageRetryScheduled', {
    provider,
    attempt: 1,
    reason,
    providerStatus: 500,
    dueAt: new Date(dueAtMs).toISOString(),
    scheduledAt: new Date(t0).toISOString(),
  });

describe('classifying provider answers', () => {
  const answer = (status: number, extra: { retryAfterMs?: number; id?: string } = {}) =>
    classifyProviderResponse({
      kind: 'answer',
      status,
      retryAfterMs: extra.retryAfterMs ?? null,
      providerMessageId: extra.id ?? null,
      detail: 'invalid To',
    });
  it('accepts 2xx with an id, retries 429/5xx/timeouts/resets, rejects other 4xx at once', () => {
    expect(answer(201, { id: 'SM1' })).toEqual({ kind: 'accepted', providerMessageId: 'SM1' });
    expect(answer(429, { retryAfterMs: 2000 })).toMatchObject({ kind: 'retryable', retryAfterMs: 2000 });
    expect(answer(503)).toMatchObject({ kind: 'retryable', providerStatus: 503 });
    expect(classifyProviderResponse({ kind: 'no_answer', failure: 'timeout', detail: null })).toMatchObject({
      kind: 'retryable',
      reason: 'timeout',
    });
    expect(answer(400)).toMatchObject({ kind: 'rejected', providerStatus: 400, reason: 'rejected: invalid To' });
    expect(answer(422).kind).toBe('rejected');
  });
  it('counts 5xx and timeouts against the breaker but not 429s', () => {
    expect(breakerSignal(answer(500))).toBe('failure');
    expect(breakerSignal(answer(429))).toBe('neutral');
    expect(breakerSignal(answer(400))).toBe('success');
  });
});

describe('backoff', () => {
  it('draws a full-jitter delay under an exponential, capped ceiling', () => {
    expect(backoffDelayMs(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelayMs(20, policy, () => 0.999)).toBe(999);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2', t0)).toBe(2000);
    expect(parseRetryAfter(new Date(t0 + 5000).toUTCString(), t0)).toBe(5000);
    expect(parseRetryAfter('soon', t0)).toBeNull();
    expect(parseRetryAfter(undefined, t0)).toBeNull();
  });
});

describe('planning an attempt', () => {
  it('calls the primary first, skips a message already sent or failed, waits for a retry that is not due', () => {
    const state = foldDispatchState(messageId, [requested()]);
    expect(planAttempt(state, route, open, policy, t0)).toEqual({ kind: 'call', provider: 'messaging-provider' });
    const sent = foldDispatchState(messageId, [
      requested(),
      recorded('MessageSent', {
        provider: 'p',
        providerMessageId: 'x',
        attempt: 1,
        sentAt: new Date(t0).toISOString(),
      }),
    ]);
    expect(planAttempt(sent, route, open, policy, t0)).toMatchObject({ kind: 'nothing', why: 'already_sent' });
    const waiting = foldDispatchState(messageId, [requested(), retry('messaging-provider', 'http_500', t0 + 500)]);
    expect(planAttempt(waiting, route, open, policy, t0)).toEqual({ kind: 'not_due', dueAtMs: t0 + 500 });
    expect(planAttempt(waiting, route, open, policy, t0 + 500).kind).toBe('call');
  });
  it('fails over when the primary budget is spent, fails when every budget is spent or the deadline passed', () => {
    const spent = foldDispatchState(messageId, [
      requested(),
      retry('messaging-provider', 'http_500', t0),
      retry('messaging-provider', 'http_500', t0),
    ]);
    expect(planAttempt(spent, route, open, policy, t0)).toEqual({
      kind: 'call',
      provider: 'messaging-provider-backup',
    });
    const all = foldDispatchState(messageId, [
      requested(),
      retry('messaging-provider', 'http_500', t0),
      retry('messaging-provider', 'http_500', t0),
      retry('messaging-provider-backup', 'http_500', t0),
      retry('messaging-provider-backup', 'http_500', t0),
    ]);
    expect(planAttempt(all, route, open, policy, t0)).toMatchObject({
      kind: 'record',
      event: { type: 'MessageFailed', data: { reason: 'attempts_exhausted', attempts: 4 } },
    });
    const fresh = foldDispatchState(messageId, [requested()]);
    expect(planAttempt(fresh, route, open, policy, t0 + 60_001)).toMatchObject({
      kind: 'record',
      event: { type: 'MessageFailed', data: { reason: 'deadline_exceeded' } },
    });
  });
  it('routes around an open breaker, and waits for the earliest reopening when all are open', () => {
    const state = foldDispatchState(messageId, [requested()]);
    const primaryDown: ProviderGate = {
      tryAcquire: (p) => p !== 'messaging-provider',
      reopensAt: () => t0 + 3000,
    };
    expect(planAttempt(state, route, primaryDown, policy, t0)).toEqual({
      kind: 'call',
      provider: 'messaging-provider-backup',
    });
    const allDown: ProviderGate = {
      tryAcquire: () => false,
      reopensAt: (p) => (p === route[0] ? t0 + 3000 : t0 + 1000),
    };
    const plan = planAttempt(state, route, allDown, policy, t0);
    expect(plan).toMatchObject({
      kind: 'record',
      event: {
        type: 'MessageRetryScheduled',
        data: { reason: 'circuit_open', dueAt: new Date(t0 + 1000).toISOString() },
      },
    });
    // A circuit wait is not a call: it spends no budget.
    if (plan.kind !== 'record') throw new Error('expected a record');
    const after = foldDispatchState(messageId, [requested(), recorded(plan.event.type, plan.event.data)]);
    expect(after.attempts).toBe(0);
    expect(after.failuresByProvider).toEqual({});
  });
});

describe('recording a call', () => {
  const state = foldDispatchState(messageId, [requested()]);
  it('records Sent, an immediate Failed for a rejection, and a retry honouring Retry-After', () => {
    expect(
      outcomeOfCall(state, route[0]!, { kind: 'accepted', providerMessageId: 'SM1' }, route, policy, t0, Math.random),
    ).toMatchObject({ type: 'MessageSent', data: { providerMessageId: 'SM1', attempt: 1 } });
    expect(
      outcomeOfCall(
        state,
        route[0]!,
        { kind: 'rejected', reason: 'x', providerStatus: 400 },
        route,
        policy,
        t0,
        Math.random,
      ),
    ).toMatchObject({ type: 'MessageFailed', data: { providerStatus: 400, attempts: 1 } });
    const limited = { kind: 'retryable', reason: 'rate_limited', providerStatus: 429, retryAfterMs: 7000 } as const;
    expect(outcomeOfCall(state, route[0]!, limited, route, policy, t0, () => 0)).toMatchObject({
      type: 'MessageRetryScheduled',
      data: { attempt: 1, providerStatus: 429, dueAt: new Date(t0 + 7000).toISOString() },
    });
  });
  it('hands the next attempt to the backup at once when the primary budget is spent', () => {
    const once = foldDispatchState(messageId, [requested(), retry(route[0]!, 'http_500', t0)]);
    const err = { kind: 'retryable', reason: 'http_500', providerStatus: 500, retryAfterMs: null } as const;
    expect(outcomeOfCall(once, route[0]!, err, route, policy, t0, () => 0.5)).toMatchObject({
      type: 'MessageRetryScheduled',
      data: { attempt: 2, dueAt: new Date(t0).toISOString() },
    });
    const backupOnce = foldDispatchState(messageId, [
      requested(),
      retry(route[0]!, 'http_500', t0),
      retry(route[0]!, 'http_500', t0),
      retry(route[1]!, 'http_500', t0),
    ]);
    expect(outcomeOfCall(backupOnce, route[1]!, err, route, policy, t0, () => 0.5)).toMatchObject({
      type: 'MessageFailed',
      data: { attempts: 4, reason: 'attempts_exhausted: http_500' },
    });
  });
  it('fails instead of scheduling a retry past the deadline', () => {
    const err = { kind: 'retryable', reason: 'rate_limited', providerStatus: 429, retryAfterMs: 120_000 } as const;
    expect(outcomeOfCall(state, route[0]!, err, route, policy, t0, () => 0)).toMatchObject({ type: 'MessageFailed' });
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, lets one probe through after the cooldown, closes on success', () => {
    let now = t0;
    const changes: string[] = [];
    const breaker = new CircuitBreaker(
      { failureThreshold: 3, cooldownMs: 1000, halfOpenProbes: 1 },
      () => now,
      (s) => changes.push(s),
    );
    for (let i = 0; i < 2; i++) breaker.record(breaker.tryAcquire()!, 'failure');
    breaker.record(breaker.tryAcquire()!, 'success');
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 3; i++) breaker.record(breaker.tryAcquire()!, 'failure');
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBeNull();
    now += 1000;
    expect(breaker.state).toBe('half_open');
    const probe = breaker.tryAcquire();
    expect(probe).toEqual({ probe: true });
    expect(breaker.tryAcquire()).toBeNull();
    breaker.record(probe!, 'failure');
    expect(breaker.state).toBe('open');
    now += 1000;
    breaker.record(breaker.tryAcquire()!, 'success');
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'open', 'closed']);
  });
});
