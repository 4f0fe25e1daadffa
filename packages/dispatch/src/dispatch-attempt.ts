// One dispatch attempt for one message: read its stream, decide, call the provider OUTSIDE any
// database transaction (message id = idempotency key), and append the outcome expecting the version
// that was read. Transport-agnostic: the log subscription feeds it today, a Kafka consumer can tomorrow.
import {
  type Channel,
  consentFamilyOf,
  consentStateFrom,
  consentStreamId,
  currentSchemaVersion,
  messageEventId,
  messageStreamId,
  providerMessageLink,
} from '@hatch/domain';
import { type EventStore, type RecordedEvent, WrongExpectedVersionError } from '@hatch/event-store';
import { traceAttributes, traceMetadata, withEventSpan } from '@hatch/platform';
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './circuit-breaker.ts';
import { ConcurrencyLimit } from './concurrency-limit.ts';
import {
  askBeforeRecording,
  lookupSinceMs,
  type OutcomeEvent,
  outcomeOfCall,
  planAttempt,
  providersToAsk,
  sentFoundByLookup,
} from './dispatch-decision.ts';
import { foldDispatchState, type MessageDispatchState } from './message-dispatch-state.ts';
import {
  breakerSignal,
  type Classified,
  classifyProviderResponse,
  type LookupAnswer,
  type OutboundMessage,
  type ProviderClient,
} from './provider-client.ts';
import type { RetryPolicy } from './retry-policy.ts';

export type AttemptResult =
  | { outcome: 'sent' | 'retry_scheduled' | 'failed'; provider: string | null; reason: string | null }
  | { outcome: 'nothing_to_do' | 'not_due' | 'lost_race' | 'lease_lost'; provider: null; reason: string | null };

/**
 * The schedule's lease on the message, taken when the provider call starts (after its concurrency slot is
 * held, so time spent waiting for the slot cannot outlive it). `take` returns false when another
 * dispatcher holds the message now: the attempt then ends without calling. Whoever made the lease keeps it
 * renewed from a successful `take` until the attempt returns.
 */
export interface AttemptLease {
  take(): Promise<boolean>;
}

export interface AttemptOptions {
  /** The message's stream as the caller already has it (see dispatchAttempt). */
  knownStream?: RecordedEvent[];
  lease?: AttemptLease;
  /** The message was taken over from a dispatcher whose lease ran out: it may have called a provider. */
  afterLapsedLease?: boolean;
}

export interface DispatchHooks {
  /** Called after every provider call (metrics). */
  onProviderCall?(provider: string, result: Classified, durationMs: number): void;
  onBreakerChange?(provider: string, state: BreakerState): void;
  /** Called after every lookup of a message at a provider (metrics). */
  onLookup?(provider: string, answer: LookupAnswer): void;
}

/** Providers, their breakers and concurrency limits, and the order per channel. */
export class ProviderDirectory {
  private readonly clients = new Map<string, ProviderClient>();
  readonly breakers = new Map<string, CircuitBreaker>();
  readonly limits = new Map<string, ConcurrencyLimit>();

  constructor(
    readonly routes: Record<Channel, readonly string[]>,
    clients: ProviderClient[],
    options: { breaker: BreakerOptions; maxInFlightPerProvider: number; now?: () => number; hooks?: DispatchHooks },
  ) {
    for (const client of clients) {
      this.clients.set(client.id, client);
      this.breakers.set(
        client.id,
        new CircuitBreaker(options.breaker, options.now, (s) => options.hooks?.onBreakerChange?.(client.id, s)),
      );
      this.limits.set(client.id, new ConcurrencyLimit(options.maxInFlightPerProvider));
    }
    for (const [channel, route] of Object.entries(routes)) {
      for (const id of route) if (!this.clients.has(id)) throw new Error(`channel ${channel}: unknown provider ${id}`);
    }
  }

  client(id: string): ProviderClient {
    const client = this.clients.get(id);
    if (!client) throw new Error(`unknown provider ${id}`);
    return client;
  }

  breakerStates(): Record<string, BreakerState> {
    return Object.fromEntries([...this.breakers].map(([id, b]) => [id, b.state]));
  }
}

/** True when the message's recipient opted out of its sender on its channel (checked before each call). */
export type ConsentCheck = (request: NonNullable<MessageDispatchState['request']>) => Promise<boolean>;

/** Reads the consent stream itself: consistent with the log, no projection lag. */
export const consentFromLog =
  (store: EventStore): ConsentCheck =>
  async (request) => {
    // The automatic answer to STOP/START/HELP is allowed (carriers require the STOP confirmation).
    if (request.purpose === 'consent_reply') return false;
    const stream = consentStreamId(consentFamilyOf(request.channel), request.from, request.to);
    return consentStateFrom(await store.readStream(stream)).optedOut;
  };

export const optedOutReason = 'opted_out';

export interface DispatchDeps {
  store: EventStore;
  /**
   * Reads a message's whole stream. Default `store.readStream`; a dispatcher with many attempts in flight
   * passes the event store's `batchedStreamReads`, so reads that arrive together share one query.
   */
  readMessageStream?: (streamId: string) => Promise<RecordedEvent[]>;
  /** Default: `consentFromLog(store)`. */
  consent?: ConsentCheck;
  providers: ProviderDirectory;
  policy: RetryPolicy;
  now?: () => number;
  random?: () => number;
  hooks?: DispatchHooks;
}

const readMessageStream = (deps: DispatchDeps, streamId: string) =>
  deps.readMessageStream ? deps.readMessageStream(streamId) : deps.store.readStream(streamId);

const outboundOf = (state: MessageDispatchState): OutboundMessage => {
  const r = state.request!;
  return {
    messageId: r.messageId,
    channel: r.channel,
    from: r.from,
    to: r.to,
    body: r.body,
    attachments: r.attachments,
    subject: r.subject,
    cc: r.cc,
    bcc: r.bcc,
    replyTo: r.replyTo,
  };
};

/**
 * `options.knownStream`: the message's stream as the caller already has it (e.g. a fresh MessageRequested
 * just read from the log), which saves reading it again. If the stream has moved on since, the append loses
 * on its expected version and the caller retries from the stream.
 */
export async function dispatchAttempt(
  deps: DispatchDeps,
  messageId: string,
  options: AttemptOptions = {},
): Promise<AttemptResult> {
  const now = deps.now ?? Date.now;
  const streamId = messageStreamId(messageId);
  let state = foldDispatchState(messageId, options.knownStream ?? (await readMessageStream(deps, streamId)));
  if (state.scheduled && !state.dispatchStarted && state.outcome === 'pending' && (state.dueAtMs ?? 0) <= now()) {
    const taken = await takeScheduled(deps, state, now());
    if (!taken) return { outcome: 'lost_race', provider: null, reason: null };
    state = taken;
  }
  const route = state.request ? deps.providers.routes[state.request.channel] : [];
  // Providers ignore repeated idempotency keys: after a call with an unknown result, ask before calling again.
  if ((state.dueAtMs ?? 0) <= now()) {
    const found = await askProviders(deps, state, providersToAsk(state, route, options));
    if (found) return found;
  }

  let ticket: { probe: boolean } | null = null;
  const plan = planAttempt(
    state,
    route,
    {
      tryAcquire: (p) => {
        ticket = deps.providers.breakers.get(p)?.tryAcquire() ?? null;
        return ticket !== null;
      },
      reopensAt: (p) => deps.providers.breakers.get(p)?.reopensAt ?? null,
    },
    deps.policy,
    now(),
  );
  if (plan.kind === 'nothing') return { outcome: 'nothing_to_do', provider: null, reason: plan.why };
  if (plan.kind === 'not_due') return { outcome: 'not_due', provider: null, reason: null };
  // Each attempt (the first and every retry) is its own span in the request's trace.
  const retry = state.attempts > 0;
  return withEventSpan(
    retry ? 'dispatch retry' : 'dispatch attempt',
    state.trace,
    {
      [traceAttributes.messageId]: messageId,
      [traceAttributes.attempt]: state.attempts + 1,
      ...(state.request ? { [traceAttributes.channel]: state.request.channel } : {}),
      ...(retry && state.lastReason ? { 'hatch.retry.after': state.lastReason } : {}),
    },
    async (span) => {
      const result =
        plan.kind === 'record'
          ? await record(deps, state, plan.event)
          : await callProvider(deps, state, plan.provider, ticket ?? { probe: false }, options.lease);
      span.setAttribute(traceAttributes.outcome, result.outcome);
      if (result.provider) span.setAttribute(traceAttributes.provider, result.provider);
      if (result.reason) span.setAttribute(traceAttributes.reason, result.reason);
      return result;
    },
  );
}

async function callProvider(
  deps: DispatchDeps,
  state: MessageDispatchState,
  provider: string,
  heldTicket: { probe: boolean },
  lease: AttemptLease | undefined,
): Promise<AttemptResult> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const messageId = state.messageId;
  const route = state.request ? deps.providers.routes[state.request.channel] : [];
  const client = deps.providers.client(provider);
  const breaker = deps.providers.breakers.get(provider)!;
  const limit = deps.providers.limits.get(provider)!;
  const started = now();
  const request = state.request!;
  const optedOut = deps.consent ?? consentFromLog(deps.store);
  let classified: Classified | null | 'lease_lost';
  try {
    // The lease and consent are taken right before the call (inside the provider's slot, after any wait for
    // it): a wait cannot outlive the lease, and a STOP recorded between accept and dispatch ends the message.
    classified = await limit.run(async () => {
      if (lease && !(await lease.take())) return 'lease_lost';
      if (await optedOut(request)) return null;
      return classifyProviderResponse(await client.send(outboundOf(state), messageId));
    });
  } catch (error) {
    // A client bug must not leave a half-open probe taken forever.
    breaker.record(heldTicket, 'neutral');
    throw error;
  }
  if (classified === 'lease_lost') {
    breaker.record(heldTicket, 'neutral');
    return { outcome: 'lease_lost', provider: null, reason: null };
  }
  if (classified === null) {
    breaker.record(heldTicket, 'neutral');
    return record(deps, state, {
      type: 'MessageFailed',
      data: {
        messageId,
        reason: optedOutReason,
        attempts: state.attempts,
        provider: null,
        providerStatus: null,
        failedAt: new Date(now()).toISOString(),
      },
    });
  }
  breaker.record(heldTicket, breakerSignal(classified));
  deps.hooks?.onProviderCall?.(provider, classified, now() - started);
  const event = outcomeOfCall(state, provider, classified, route, deps.policy, now(), random);
  if (askBeforeRecording(classified, event)) {
    const found = await askProviders(deps, state, [provider]);
    if (found) return found;
  }
  return record(deps, state, event);
}

/** Asks each provider in turn whether it has the message; records MessageSent for the first that does. */
async function askProviders(
  deps: DispatchDeps,
  state: MessageDispatchState,
  providers: readonly string[],
): Promise<AttemptResult | null> {
  const now = deps.now ?? Date.now;
  for (const provider of providers) {
    const client = deps.providers.client(provider);
    if (!client.lookup) continue;
    const answer: LookupAnswer = await client
      .lookup({ message: outboundOf(state), providerMessageId: null, sinceMs: lookupSinceMs(state, now()) })
      .catch((error: unknown) => ({ kind: 'unknown', detail: error instanceof Error ? error.message : null }));
    deps.hooks?.onLookup?.(provider, answer);
    if (answer.kind === 'found')
      return record(deps, state, sentFoundByLookup(state, provider, answer.providerMessageId, now()));
  }
  return null;
}

/**
 * A due scheduled send is taken in the log before any provider call: MessageDispatchStarted appended
 * expecting the version read. A cancel racing it appends at the same version, so exactly one of them
 * wins; null when this dispatcher lost (the next pass reads what happened).
 */
async function takeScheduled(
  deps: DispatchDeps,
  state: MessageDispatchState,
  nowMs: number,
): Promise<MessageDispatchState | null> {
  const id = messageEventId(state.messageId, 'MessageDispatchStarted');
  try {
    const result = await deps.store.append(
      messageStreamId(state.messageId),
      [
        {
          id,
          type: 'MessageDispatchStarted',
          data: { messageId: state.messageId, startedAt: new Date(nowMs).toISOString() },
          metadata: {
            correlationId: state.correlationId ?? state.messageId,
            causationId: state.lastEventId,
            actor: 'dispatcher',
            schemaVersion: currentSchemaVersion,
            ...(state.trace ?? {}),
          },
        },
      ],
      state.version,
    );
    // Another dispatcher took it with the same event id: re-read rather than guess its version.
    if (result.duplicate) return null;
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) return null;
    throw error;
  }
  return { ...state, version: state.version + 1, lastEventId: id, dispatchStarted: true };
}

const receiptTypes = new Set(['MessageDelivered', 'MessageUndelivered']);

async function record(deps: DispatchDeps, state: MessageDispatchState, event: OutcomeEvent): Promise<AttemptResult> {
  // Deterministic ids: two dispatchers recording the same fact at the same version write it once.
  const discriminator = event.type === 'MessageRetryScheduled' ? String(state.version + 1) : '';
  if (event.type === 'MessageSent') await linkProviderMessage(deps, state, event.data);
  try {
    await deps.store.append(
      messageStreamId(state.messageId),
      [
        {
          id: messageEventId(state.messageId, event.type, discriminator),
          type: event.type,
          data: event.data,
          metadata: {
            correlationId: state.correlationId ?? state.messageId,
            causationId: state.lastEventId,
            actor: 'dispatcher',
            schemaVersion: currentSchemaVersion,
            // The attempt's span: the outcome (and the retry it schedules) continue the request's trace.
            ...traceMetadata(),
          },
        },
      ],
      state.version,
    );
  } catch (error) {
    if (!(error instanceof WrongExpectedVersionError)) throw error;
    // A delivery receipt can land between the provider's acceptance and this append (the soak found it),
    // also when the answer was lost (a timeout: the retry must still be recorded, or the next attempt would
    // not know to ask the provider first). Receipts are not outcomes, and they count only once a MessageSent
    // names their provider message id: record the outcome after them. Any other newer event is another
    // dispatcher's outcome; it stands.
    const latest = await readMessageStream(deps, messageStreamId(state.messageId));
    const newer = latest.filter((e) => e.streamVersion > state.version);
    if (newer.length > 0 && newer.every((e) => receiptTypes.has(e.type)))
      return record(deps, { ...state, version: latest.at(-1)?.streamVersion ?? state.version }, event);
    return { outcome: 'lost_race', provider: null, reason: null };
  }
  switch (event.type) {
    case 'MessageSent':
      return { outcome: 'sent', provider: event.data.provider, reason: null };
    case 'MessageRetryScheduled':
      return { outcome: 'retry_scheduled', provider: event.data.provider, reason: event.data.reason };
    case 'MessageFailed':
      return { outcome: 'failed', provider: event.data.provider, reason: event.data.reason };
  }
}

/**
 * Before MessageSent: the link from the provider's message id to ours (providermessage-<uuid>), so an
 * account-wide callback naming only the provider's id finds the message as soon as MessageSent is readable.
 * Written first because the two streams cannot share a transaction: a crash in between leaves a link whose
 * receipt is held until a MessageSent names that id (receipt-matching), never one missing behind a MessageSent.
 */
async function linkProviderMessage(
  deps: DispatchDeps,
  state: MessageDispatchState,
  sent: { provider: string; providerMessageId: string; sentAt: string },
): Promise<void> {
  const link = providerMessageLink({
    provider: sent.provider,
    providerMessageId: sent.providerMessageId,
    messageId: state.messageId,
    linkedAt: sent.sentAt,
  });
  await deps.store.append(
    link.streamId,
    [
      {
        id: link.id,
        type: link.type,
        data: link.data,
        metadata: {
          correlationId: state.correlationId ?? state.messageId,
          causationId: state.lastEventId,
          actor: 'dispatcher',
          schemaVersion: currentSchemaVersion,
        },
      },
    ],
    'any',
  );
}
