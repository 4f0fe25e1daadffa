// Realistic mixed message lifecycles for tests and the benchmark: outbound sends (sent, delivered,
// undelivered, retried, failed), inbound messages, duplicate and conflicting receipts, and receipts that
// reach the log before their message. Deterministic for a given seed so runs are comparable.
import { deterministicUuid, type MessageEvent, messageEventId, messageStreamId } from '@hatch/domain';
import type { NewEvent } from '@hatch/event-store';

export interface WorkloadAppend {
  streamId: string;
  event: NewEvent;
}

/** Appends grouped in rounds: each round has at most one append per stream, so a round can go concurrently. */
export type WorkloadRounds = WorkloadAppend[][];

const ourPhone = '+15550000001';
const ourEmail = 'support@hatch.dev';

export function conversationIdFor(a: string, b: string) {
  return deterministicUuid('hatch.test-conversation', ...[a, b].sort());
}

function event(messageId: string, e: MessageEvent, discriminator: string): NewEvent {
  return {
    id: messageEventId(messageId, e.type, discriminator),
    type: e.type,
    data: e.data,
    metadata: { correlationId: messageId, causationId: null, actor: 'workload', schemaVersion: 1 },
  };
}

const at = (base: number, seconds: number) => new Date(base + seconds * 1000).toISOString();

export interface WorkloadOptions {
  messages: number;
  /** Distinct contacts; conversations ≈ contacts × channels. */
  contacts?: number;
  seed?: string;
  /** Epoch ms of the first message. */
  start?: number;
}

/**
 * The lifecycle of message `i` as events in their intended log order, each tagged with the round it goes in.
 * Kinds by i % 10: 0,1,2,3 delivered sms/mms/email; 4 inbound; 5 retried then delivered (+ a duplicate
 * receipt); 6 failed after retries; 7 receipt before the message; 8 delivered then a late undelivered;
 * 9 undelivered.
 */
export function messageLifecycle(i: number, options: WorkloadOptions): { round: number; append: WorkloadAppend }[] {
  const seed = options.seed ?? 'workload';
  const base = options.start ?? Date.parse('2026-11-01T09:00:00.000Z');
  const contact = i % (options.contacts ?? 50);
  const kind = i % 10;
  const channel: 'sms' | 'mms' | 'email' = kind === 2 || kind === 6 ? 'email' : kind === 1 ? 'mms' : 'sms';
  const ours = channel === 'email' ? ourEmail : ourPhone;
  const theirs = channel === 'email' ? `contact${contact}@example.com` : `+1555${String(1000000 + contact)}`;
  const messageId = deterministicUuid('hatch.test-message', seed, String(i));
  const streamId = messageStreamId(messageId);
  const conversationId = conversationIdFor(ours, theirs);
  const t = i * 2;
  const provider = channel === 'email' ? 'xillio' : 'messaging-provider';
  const providerMessageId = `${provider}-${seed}-${i}`;
  const content = {
    messageId,
    conversationId,
    channel,
    body:
      kind === 1 ? '' : `message ${i} from the ${kind === 4 ? 'contact' : 'team'} 🙂 ${'lorem ipsum '.repeat(i % 4)}`,
    attachments: channel === 'mms' ? [`https://cdn.example.com/${i}.jpg`] : [],
    subject: channel === 'email' ? `Subject ${i}` : null,
    cc: [] as string[],
    bcc: [] as string[],
    replyTo: null,
    timestamp: at(base, t),
  };
  const out: { round: number; append: WorkloadAppend }[] = [];
  const push = (round: number, e: MessageEvent, discriminator = '') =>
    out.push({ round, append: { streamId, event: event(messageId, e, discriminator) } });
  const requested = (round: number) =>
    push(round, {
      type: 'MessageRequested',
      data: { ...content, from: ours, to: theirs, clientId: 'client-1', segments: 1, requestedAt: at(base, t) },
    });
  const sent = (round: number, attempt = 1, p = provider) =>
    push(
      round,
      {
        type: 'MessageSent',
        data: { messageId, provider: p, providerMessageId, attempt, sentAt: at(base, t + attempt) },
      },
      String(attempt),
    );
  const delivered = (round: number, discriminator = '', seconds = 5) =>
    push(
      round,
      {
        type: 'MessageDelivered',
        data: { messageId, provider, providerMessageId, deliveredAt: at(base, t + seconds) },
      },
      discriminator,
    );
  const undelivered = (round: number, seconds = 6) =>
    push(round, {
      type: 'MessageUndelivered',
      data: {
        messageId,
        provider,
        providerMessageId,
        reason: 'handset unreachable',
        errorCode: '30003',
        reportedAt: at(base, t + seconds),
      },
    });
  const retry = (round: number, attempt: number) =>
    push(
      round,
      {
        type: 'MessageRetryScheduled',
        data: {
          messageId,
          provider,
          attempt,
          reason: 'provider answered 503',
          providerStatus: 503,
          dueAt: at(base, t + attempt + 1),
          scheduledAt: at(base, t + attempt),
        },
      },
      String(attempt),
    );
  switch (kind) {
    case 0:
    case 1:
    case 2:
    case 3:
      requested(0);
      sent(1);
      delivered(2);
      break;
    case 4:
      push(0, {
        type: 'MessageReceived',
        data: {
          ...content,
          from: theirs,
          to: ours,
          provider,
          providerMessageId,
          receivedAt: at(base, t + 1),
        },
      });
      break;
    case 5:
      requested(0);
      retry(1, 1);
      sent(2, 2, channel === 'email' ? 'xillio-backup' : 'messaging-provider-backup');
      delivered(3);
      delivered(4, 'again', 9);
      break;
    case 6:
      requested(0);
      retry(1, 1);
      retry(2, 2);
      push(3, {
        type: 'MessageFailed',
        data: {
          messageId,
          reason: 'all providers failed',
          attempts: 3,
          provider,
          providerStatus: 503,
          failedAt: at(base, t + 4),
        },
      });
      break;
    case 7:
      delivered(0);
      requested(1);
      sent(2);
      break;
    case 8:
      requested(0);
      sent(1);
      delivered(2);
      undelivered(3, 8);
      break;
    case 9:
      requested(0);
      sent(1);
      undelivered(2);
      break;
  }
  return out;
}

/** Messages [from, to) as rounds: every message's first event in round 0, its second in round 1, … */
export function mixedWorkload(options: WorkloadOptions & { from?: number }): WorkloadRounds {
  const rounds: WorkloadRounds = [];
  for (let i = options.from ?? 0; i < (options.from ?? 0) + options.messages; i++) {
    for (const { round, append } of messageLifecycle(i, options)) {
      rounds[round] ??= [];
      rounds[round].push(append);
    }
  }
  return rounds;
}

/** Appends the rounds through the port, `concurrency` appends at a time within a round. */
export async function appendWorkload(
  store: { append(streamId: string, events: NewEvent[], expected?: 'any'): Promise<{ position: string }> },
  rounds: WorkloadRounds,
  concurrency = 64,
): Promise<string | null> {
  let last: string | null = null;
  for (const round of rounds) {
    for (let i = 0; i < round.length; i += concurrency) {
      const results = await Promise.all(
        round.slice(i, i + concurrency).map((a) => store.append(a.streamId, [a.event], 'any')),
      );
      for (const r of results) if (last === null || r.position > last) last = r.position;
    }
  }
  return last;
}
