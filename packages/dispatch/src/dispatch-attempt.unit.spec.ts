// A delivery receipt that lands between the provider's acceptance and the dispatcher's append must not cost
// the message its MessageSent (found by bin/soak): the receipt is held until MessageSent names its provider
// message id, so without the MessageSent it would never count. And at most one provider call per attempt:
// after a call with an unknown result the provider is asked before anyone calls again.
import { linkedMessageId, providerMessageStreamId } from '@hatch/domain';
import { type EventStore, type NewEvent, type RecordedEvent, WrongExpectedVersionError } from '@hatch/event-store';
import { eventMetadata, messageDelivered, messageRequested, newMessageEvent } from '@hatch/testing/events';
import { describe, expect, it } from 'vitest';
import { type AttemptOptions, dispatchAttempt, ProviderDirectory } from './dispatch-attempt.ts';
import { foldDispatchState } from './message-dispatch-state.ts';
import type { LookupAnswer, ProviderClient, ProviderResponse } from './provider-client.ts';

const messageId = '6f1c2b1e-1d7a-4f4e-9a57-6a0d3f6d1c01';
const streamId = `message-${messageId}`;
const t0 = Date.parse('2026-11-25T10:00:00.000Z');

/** Just enough of a log: the message's stream, optimistic concurrency, idempotent event ids; other streams' appends in order. */
function memoryStore(initial: NewEvent[]) {
  const events: RecordedEvent[] = [];
  const elsewhere: Array<{ stream: string; event: NewEvent; afterMessageVersion: number }> = [];
  const push = (e: NewEvent) =>
    events.push({
      ...e,
      streamId,
      streamVersion: events.length,
      position: String(events.length).padStart(10, '0'),
      recordedAt: new Date(t0).toISOString(),
    } as RecordedEvent);
  for (const e of initial) push(e);
  const store = {
    async readStream() {
      return [...events];
    },
    async append(stream: string, batch: NewEvent[], expected: number | 'any') {
      if (stream !== streamId) {
        for (const event of batch) elsewhere.push({ stream, event, afterMessageVersion: events.length - 1 });
        return { position: '', duplicate: false };
      }
      if (batch.every((e) => events.some((x) => x.id === e.id)))
        return { position: events.at(-1)?.position ?? '', duplicate: true };
      if (expected !== 'any' && expected !== events.length - 1)
        throw new WrongExpectedVersionError(streamId, expected, events.length - 1);
      for (const e of batch) push(e);
      return { position: events.at(-1)?.position ?? '', duplicate: false };
    },
  };
  return { store: store as unknown as EventStore, events, elsewhere, push };
}

const metadata = eventMetadata({ correlationId: 'c', actor: 'test' });
const requested = newMessageEvent(
  'MessageRequested',
  messageRequested({
    messageId,
    timestamp: new Date(t0).toISOString(),
    requestedAt: new Date(t0).toISOString(),
  }),
  { metadata },
);

/** One dispatch attempt of the message with `clients` as the SMS providers (primary first). */
function attemptWith(
  store: EventStore,
  provider: ProviderClient,
  options: AttemptOptions = {},
  ...more: ProviderClient[]
) {
  const clients = [provider, ...more];
  const providers = new ProviderDirectory({ sms: clients.map((c) => c.id), mms: [], email: [] }, clients, {
    breaker: { failureThreshold: 10, cooldownMs: 1000, halfOpenProbes: 1 },
    maxInFlightPerProvider: 4,
    now: () => t0,
  });
  return dispatchAttempt(
    {
      store,
      providers,
      policy: { maxAttemptsPerProvider: 2, baseDelayMs: 100, maxDelayMs: 1000, deadlineMs: 60_000 },
      now: () => t0,
    },
    messageId,
    options,
  );
}

describe('dispatchAttempt racing a delivery receipt', () => {
  it('records MessageSent after a receipt that arrived while the provider call was answered', async () => {
    const log = memoryStore([requested]);
    const provider: ProviderClient = {
      id: 'messaging-provider',
      async send() {
        // The provider accepts and its receipt reaches the command API before our append.
        log.push(
          newMessageEvent(
            'MessageDelivered',
            messageDelivered(messageId, {
              provider: 'messaging-provider',
              providerMessageId: 'SM1',
              deliveredAt: new Date(t0).toISOString(),
            }),
            { metadata },
          ),
        );
        return { kind: 'answer', status: 201, retryAfterMs: null, providerMessageId: 'SM1', detail: null };
      },
    };
    const result = await attemptWith(log.store, provider);
    expect(result.outcome).toBe('sent');
    expect(log.events.map((e) => e.type)).toEqual(['MessageRequested', 'MessageDelivered', 'MessageSent']);
  });

  it('dispatches a message whose receipt came before any send: the receipt ends nothing', async () => {
    const early = newMessageEvent(
      'MessageDelivered',
      messageDelivered(messageId, {
        provider: 'messaging-provider',
        providerMessageId: 'SM-early',
        deliveredAt: new Date(t0).toISOString(),
      }),
      { metadata },
    );
    const log = memoryStore([requested, early]);
    let calls = 0;
    const provider: ProviderClient = {
      id: 'messaging-provider',
      async send() {
        calls++;
        return { kind: 'answer', status: 201, retryAfterMs: null, providerMessageId: 'SM-early', detail: null };
      },
    };
    const result = await attemptWith(log.store, provider);
    expect(calls).toBe(1);
    expect(result.outcome).toBe('sent');
    expect(log.events.map((e) => e.type)).toEqual(['MessageRequested', 'MessageDelivered', 'MessageSent']);
  });
});

describe('dispatchAttempt linking the provider message id', () => {
  it("appends the link from the provider's id to ours before MessageSent, on the provider message stream", async () => {
    const log = memoryStore([requested]);
    const provider: ProviderClient = {
      id: 'messaging-provider',
      async send() {
        return { kind: 'answer', status: 201, retryAfterMs: null, providerMessageId: 'SM-linked', detail: null };
      },
    };
    expect((await attemptWith(log.store, provider)).outcome).toBe('sent');
    expect(log.events.map((e) => e.type)).toEqual(['MessageRequested', 'MessageSent']);
    const [link] = log.elsewhere;
    expect(log.elsewhere).toHaveLength(1);
    expect(link?.stream).toBe(providerMessageStreamId('messaging-provider', 'SM-linked'));
    expect(linkedMessageId(log.elsewhere.map((e) => e.event))).toBe(messageId);
    // Appended while the message stream still ended at MessageRequested: before MessageSent.
    expect(link?.afterMessageVersion).toBe(0);
  });
});

const timedOutAt = (provider: string) =>
  newMessageEvent(
    'MessageRetryScheduled',
    {
      messageId,
      provider,
      attempt: 1,
      reason: 'timeout',
      providerStatus: null,
      dueAt: new Date(t0).toISOString(),
      scheduledAt: new Date(t0).toISOString(),
    },
    { metadata, discriminator: 'retry-1' },
  );

/** A provider that counts its calls and lookups and answers both as told. */
function scriptedProvider(id: string, lookup: LookupAnswer, send: ProviderResponse) {
  const seen = { sends: 0, lookups: 0 };
  const client: ProviderClient = {
    id,
    async send() {
      seen.sends++;
      return send;
    },
    async lookup() {
      seen.lookups++;
      return lookup;
    },
  };
  return { client, seen };
}

const accepted = (id: string): ProviderResponse => ({
  kind: 'answer',
  status: 201,
  retryAfterMs: null,
  providerMessageId: id,
  detail: null,
});
const timeout: ProviderResponse = { kind: 'no_answer', failure: 'timeout', detail: null };

describe('dispatchAttempt after a call with an unknown result', () => {
  it('asks the provider that timed out and records MessageSent with its id instead of calling again', async () => {
    const log = memoryStore([requested, timedOutAt('messaging-provider')]);
    const primary = scriptedProvider(
      'messaging-provider',
      { kind: 'found', providerMessageId: 'SM-first' },
      accepted('SM-2'),
    );
    const backup = scriptedProvider('xillio-backup', { kind: 'not_found' }, accepted('BK-1'));
    const result = await attemptWith(log.store, primary.client, {}, backup.client);
    expect(result.outcome).toBe('sent');
    expect(primary.seen).toEqual({ sends: 0, lookups: 1 });
    expect(backup.seen).toEqual({ sends: 0, lookups: 0 });
    expect(log.events.at(-1)).toMatchObject({
      type: 'MessageSent',
      data: { provider: 'messaging-provider', providerMessageId: 'SM-first' },
    });
  });

  it('calls again when the provider has no such message, or cannot tell', async () => {
    for (const answer of [{ kind: 'not_found' }, { kind: 'unknown', detail: 'http_503' }] as LookupAnswer[]) {
      const log = memoryStore([requested, timedOutAt('messaging-provider')]);
      const primary = scriptedProvider('messaging-provider', answer, accepted('SM-2'));
      const result = await attemptWith(log.store, primary.client);
      expect(result.outcome).toBe('sent');
      expect(primary.seen).toEqual({ sends: 1, lookups: 1 });
    }
  });

  it('asks nobody on a first attempt, and every provider of the channel after a lapsed lease', async () => {
    const first = scriptedProvider(
      'messaging-provider',
      { kind: 'found', providerMessageId: 'SM-x' },
      accepted('SM-1'),
    );
    await attemptWith(memoryStore([requested]).store, first.client);
    expect(first.seen).toEqual({ sends: 1, lookups: 0 });

    const log = memoryStore([requested]);
    const primary = scriptedProvider('messaging-provider', { kind: 'not_found' }, accepted('SM-1'));
    const backup = scriptedProvider(
      'xillio-backup',
      { kind: 'found', providerMessageId: 'BK-crashed' },
      accepted('BK-2'),
    );
    const result = await attemptWith(log.store, primary.client, { afterLapsedLease: true }, backup.client);
    expect(result.outcome).toBe('sent');
    expect(primary.seen).toEqual({ sends: 0, lookups: 1 });
    expect(backup.seen).toEqual({ sends: 0, lookups: 1 });
    expect(log.events.at(-1)).toMatchObject({ type: 'MessageSent', data: { providerMessageId: 'BK-crashed' } });
  });

  it('asks before failing a message on a timeout that spends the last attempt', async () => {
    // Budget 2 per provider, one provider: the second timeout would end in MessageFailed.
    const log = memoryStore([requested, timedOutAt('messaging-provider')]);
    let lookups = 0;
    const client: ProviderClient = {
      id: 'messaging-provider',
      async send() {
        return timeout;
      },
      async lookup() {
        lookups++;
        return lookups === 1 ? { kind: 'not_found' } : { kind: 'found', providerMessageId: 'SM-late' };
      },
    };
    const result = await attemptWith(log.store, client);
    expect(lookups).toBe(2);
    expect(result.outcome).toBe('sent');
    expect(log.events.map((e) => e.type)).not.toContain('MessageFailed');
  });

  it('records the retry after a receipt that landed while the call timed out, so the next attempt asks first', async () => {
    const log = memoryStore([requested]);
    const client: ProviderClient = {
      id: 'messaging-provider',
      async send() {
        // The provider took it, its receipt reached us, the answer never did.
        log.push(
          newMessageEvent(
            'MessageDelivered',
            messageDelivered(messageId, {
              provider: 'messaging-provider',
              providerMessageId: 'SM-lost',
              deliveredAt: new Date(t0).toISOString(),
            }),
            { metadata },
          ),
        );
        return timeout;
      },
    };
    expect((await attemptWith(log.store, client)).outcome).toBe('retry_scheduled');
    expect(log.events.map((e) => e.type)).toEqual(['MessageRequested', 'MessageDelivered', 'MessageRetryScheduled']);
    // The retry names the provider whose answer was lost: the attempt that takes it asks there first.
    expect(foldDispatchState(messageId, log.events).unconfirmedAt).toEqual(['messaging-provider']);
  });

  it('makes no call when the lease was taken over while it waited for the provider slot', async () => {
    const log = memoryStore([requested]);
    const primary = scriptedProvider('messaging-provider', { kind: 'not_found' }, accepted('SM-1'));
    const result = await attemptWith(log.store, primary.client, { lease: { take: async () => false } });
    expect(result.outcome).toBe('lease_lost');
    expect(primary.seen.sends).toBe(0);
    expect(log.events).toHaveLength(1);
  });
});
