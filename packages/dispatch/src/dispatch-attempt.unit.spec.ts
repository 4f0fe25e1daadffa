// A delivery receipt that lands between the provider's acceptance and the dispatcher's append must not cost
// the message its MessageSent (found by bin/soak): the receipt is held until MessageSent names its provider
// message id, so without the MessageSent it would never count.
import { linkedMessageId, providerMessageStreamId } from '@hatch/domain';
import { type EventStore, type NewEvent, type RecordedEvent, WrongExpectedVersionError } from '@hatch/event-store';
import { eventMetadata, messageDelivered, messageRequested, newMessageEvent } from '@hatch/testing/events';
import { describe, expect, it } from 'vitest';
import { dispatchAttempt, ProviderDirectory } from './dispatch-attempt.ts';
import type { ProviderClient } from './provider-client.ts';

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

/** One dispatch attempt of the message with `provider` as the only SMS provider. */
function attemptWith(store: EventStore, provider: ProviderClient) {
  const providers = new ProviderDirectory({ sms: ['messaging-provider'], mms: [], email: [] }, [provider], {
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
