// Commands on a message and the pure decisions that turn them into events. No I/O here: the command
// API gives the clock's time, the message id and the stream's past; the log's idempotent append does the rest.
import { normaliseEmail, normalisePhone } from '../addresses/addresses.ts';
import { accountConversationIdFor } from '../conversations/conversation-key.ts';
import type { Accepted } from '../decider.ts';
import { inboundMessageId, messageEventId, messageStreamId } from '../ids.ts';
import { checkChannelRules, type FieldError } from './channel-rules.ts';
import type { Channel, MessageEventOf, MessageEventType } from './events.ts';
import type { MessageState } from './message-state.ts';
import { countSmsSegments } from './sms-segments.ts';

/** What a message carries, as it arrived (addresses not yet normalised). */
export interface MessageContent {
  channel: Channel;
  from: string;
  to: string;
  body: string;
  attachments: string[];
  subject?: string | null;
  cc?: string[];
  bcc?: string[];
  replyTo?: string | null;
  /** UTC ISO-8601, as the client or provider stamped it. */
  timestamp: string;
}

export interface SendMessage {
  type: 'SendMessage';
  data: MessageContent & {
    /** From (client, Idempotency-Key) when a key is given, else fresh. */
    messageId: string;
    clientId: string;
    /** The account the message is sent for, when the sender is not the caller (a consent reply). */
    accountId?: string;
    requestedAt: string;
    /** Fingerprint of the request, so a retry with the same key can be told from a different body. */
    requestHash?: string;
    purpose?: 'consent_reply';
    /** UTC ISO-8601: dispatch when due, 1 minute to 35 days after `requestedAt`. */
    sendAt?: string | null;
  };
}

export interface CancelMessage {
  type: 'CancelMessage';
  data: { messageId: string; clientId: string; cancelledAt: string };
}

/** How far ahead a send may be scheduled. */
export const scheduleWindow = { minMs: 60_000, maxMs: 35 * 24 * 3_600_000 } as const;

export function checkSendAt(sendAt: string, requestedAt: string): FieldError | null {
  const due = Date.parse(sendAt);
  if (!/(Z|[+-]00:?00)$/.test(sendAt) || Number.isNaN(due))
    return { field: 'sendAt', message: 'must be a UTC ISO-8601 timestamp, e.g. 2024-11-01T14:00:00Z' };
  const ahead = due - Date.parse(requestedAt);
  if (ahead < scheduleWindow.minMs || ahead > scheduleWindow.maxMs)
    return { field: 'sendAt', message: 'must be between 1 minute and 35 days from now' };
  return null;
}

export interface ReceiveMessage {
  type: 'ReceiveMessage';
  data: MessageContent & {
    provider: string;
    providerMessageId: string;
    receivedAt: string;
    /** The account the edge routed the message to (the owner of `to`). */
    accountId: string;
    /** Files that came inside the message: metadata only. */
    attachmentFiles?: Array<{ filename: string; contentType: string; size: number }>;
  };
}

export interface RecordDeliveryReceipt {
  type: 'RecordDeliveryReceipt';
  data: {
    messageId: string;
    /** The provider the receipt came from (the primary of the channel; the stream may name the backup). */
    provider: string;
    providerMessageId: string;
    outcome: 'delivered' | 'undelivered';
    /** The provider's status word, e.g. `delivered`, `failed`, `bounced`. */
    providerStatus: string;
    reason: string | null;
    errorCode: string | null;
    reportedAt: string;
  };
}

/** An event the decision wants appended, with its deterministic id (metadata is added by the caller). */
export type DecidedEvent<K extends MessageEventType> = MessageEventOf<K> & { id: string };

export type Decision<E extends DecidedEvent<MessageEventType>> =
  | (Accepted<E> & { messageId: string })
  | { ok: false; reason: 'invalid'; errors: FieldError[] }
  | { ok: false; reason: 'not_found'; detail: string };

type Normalised = { from: string; to: string; cc: string[]; bcc: string[]; replyTo: string | null };

function normaliseAddresses(content: MessageContent): { errors: FieldError[]; value: Normalised } {
  const errors: FieldError[] = [];
  const isPhone = content.channel !== 'email';
  const one = (field: string, raw: string) => {
    const result = isPhone ? normalisePhone(raw) : normaliseEmail(raw);
    if (!result.ok) errors.push({ field, message: result.message });
    return result.ok ? result.value : raw;
  };
  const value: Normalised = {
    from: one('from', content.from),
    to: one('to', content.to),
    cc: (content.cc ?? []).map((a, i) => one(`cc.${i}`, a)),
    bcc: (content.bcc ?? []).map((a, i) => one(`bcc.${i}`, a)),
    replyTo: content.replyTo ? one('replyTo', content.replyTo) : null,
  };
  if (isPhone && (content.cc?.length || content.bcc?.length || content.replyTo || content.subject))
    errors.push({ field: 'channel', message: 'subject, cc, bcc and reply-to are for email only' });
  return { errors, value };
}

function contentData(content: MessageContent, addresses: Normalised, messageId: string, accountId: string) {
  return {
    messageId,
    accountId,
    conversationId: accountConversationIdFor(accountId, [addresses.from, addresses.to]),
    channel: content.channel,
    from: addresses.from,
    to: addresses.to,
    body: content.body,
    attachments: content.attachments,
    subject: content.channel === 'email' ? (content.subject ?? null) : null,
    cc: addresses.cc,
    bcc: addresses.bcc,
    replyTo: addresses.replyTo,
    timestamp: content.timestamp,
  };
}

const segmentsOf = (content: MessageContent) =>
  content.channel === 'sms' ? countSmsSegments(content.body).segments : 1;

export function decideSend(command: SendMessage): Decision<DecidedEvent<'MessageRequested'>> {
  const { data } = command;
  const { errors, value } = normaliseAddresses(data);
  errors.push(...checkChannelRules(data));
  const sendAtError = data.sendAt ? checkSendAt(data.sendAt, data.requestedAt) : null;
  if (sendAtError) errors.push(sendAtError);
  if (errors.length > 0) return { ok: false, reason: 'invalid', errors };
  const event = {
    id: messageEventId(data.messageId, 'MessageRequested'),
    type: 'MessageRequested' as const,
    data: {
      ...contentData(data, value, data.messageId, data.accountId ?? data.clientId),
      clientId: data.clientId,
      segments: segmentsOf(data),
      requestedAt: data.requestedAt,
      ...(data.requestHash ? { requestHash: data.requestHash } : {}),
      ...(data.purpose ? { purpose: data.purpose } : {}),
      ...(data.sendAt ? { sendAt: new Date(data.sendAt).toISOString() } : {}),
    },
  };
  return { ok: true, streamId: messageStreamId(data.messageId), messageId: data.messageId, events: [event] };
}

/** Inbound: the id derives from (provider, provider message id), so a re-delivered webhook is the same event. */
export function decideReceive(command: ReceiveMessage): Decision<DecidedEvent<'MessageReceived'>> {
  const { data } = command;
  const { errors, value } = normaliseAddresses(data);
  errors.push(...checkChannelRules(data));
  if (errors.length > 0) return { ok: false, reason: 'invalid', errors };
  const messageId = inboundMessageId(data.provider, data.providerMessageId);
  const event = {
    id: messageEventId(messageId, 'MessageReceived'),
    type: 'MessageReceived' as const,
    data: {
      ...contentData(data, value, messageId, data.accountId),
      provider: data.provider,
      providerMessageId: data.providerMessageId,
      receivedAt: data.receivedAt,
      ...(data.attachmentFiles?.length ? { attachmentFiles: data.attachmentFiles } : {}),
    },
  };
  return { ok: true, streamId: messageStreamId(messageId), messageId, events: [event] };
}

/**
 * A receipt for an outbound message. Its event id derives from (provider message id, status), so a
 * duplicate receipt appends nothing; ordering against other events is the projector's job (status only
 * moves forward).
 */
export function decideDeliveryReceipt(
  command: RecordDeliveryReceipt,
  state: MessageState | null,
): Decision<DecidedEvent<'MessageDelivered' | 'MessageUndelivered'>> {
  const { data } = command;
  if (state?.direction !== 'outbound')
    return { ok: false, reason: 'not_found', detail: `no outbound message ${data.messageId}` };
  const provider = state.providerOf[data.providerMessageId] ?? data.provider;
  const streamId = messageStreamId(data.messageId);
  const discriminator = `${provider}\u0000${data.providerMessageId}\u0000${data.providerStatus}`;
  if (data.outcome === 'delivered') {
    const event = {
      id: messageEventId(data.messageId, 'MessageDelivered', discriminator),
      type: 'MessageDelivered' as const,
      data: {
        messageId: data.messageId,
        provider,
        providerMessageId: data.providerMessageId,
        deliveredAt: data.reportedAt,
      },
    };
    return { ok: true, streamId, messageId: data.messageId, events: [event] };
  }
  const event = {
    id: messageEventId(data.messageId, 'MessageUndelivered', discriminator),
    type: 'MessageUndelivered' as const,
    data: {
      messageId: data.messageId,
      provider,
      providerMessageId: data.providerMessageId,
      reason: data.reason ? `${data.providerStatus}: ${data.reason}` : data.providerStatus,
      errorCode: data.errorCode,
      reportedAt: data.reportedAt,
    },
  };
  return { ok: true, streamId, messageId: data.messageId, events: [event] };
}

/**
 * Cancelling a scheduled send: only while it is still scheduled (no dispatch began), and only by the client
 * that requested it. The handler appends expecting the version the state was folded from, so a dispatcher
 * taking the message at the same moment wins or loses cleanly on the stream version.
 */
export function decideCancel(
  command: CancelMessage,
  state: MessageState | null,
):
  | Accepted<DecidedEvent<'MessageCancelled'>>
  | {
      ok: false;
      reason: 'not_found' | 'already_cancelled' | 'not_cancellable';
      status: MessageState['status'] | null;
    } {
  const { data } = command;
  if (state?.direction !== 'outbound' || state.clientId !== data.clientId)
    return { ok: false, reason: 'not_found', status: null };
  if (state.status === 'cancelled') return { ok: false, reason: 'already_cancelled', status: state.status };
  if (state.status !== 'scheduled') return { ok: false, reason: 'not_cancellable', status: state.status };
  const event: DecidedEvent<'MessageCancelled'> = {
    id: messageEventId(data.messageId, 'MessageCancelled'),
    type: 'MessageCancelled',
    data: { messageId: data.messageId, clientId: data.clientId, cancelledAt: data.cancelledAt },
  };
  return { ok: true, streamId: messageStreamId(data.messageId), events: [event] };
}
