// Builders for the message events specs append or decide on: valid by the domain's own schemas (every
// builder parses what it returns), ids from the domain (`messageEventId`), metadata at the current schema
// version. Override any field; a spec states only what it is about.
import {
  type Channel,
  currentSchemaVersion,
  type MessageEventOf,
  type MessageEventType,
  messageEventId,
  messageEventSchemas,
  newId,
  providerMessageLink,
} from '@hatch/domain';
import type { EventMetadata, NewEvent } from '@hatch/event-store';

export type MessageEventData<K extends MessageEventType> = MessageEventOf<K>['data'];

const now = () => new Date().toISOString();
const build = <K extends MessageEventType>(type: K, data: MessageEventData<K>): MessageEventData<K> =>
  messageEventSchemas[type].parse(data) as MessageEventData<K>;

/** A sender address fitting the channel. */
const senderFor = (channel: Channel) => (channel === 'email' ? 'sender@hatch.test' : '+12015550100');

export function messageRequested(
  fields: Partial<MessageEventData<'MessageRequested'>> = {},
): MessageEventData<'MessageRequested'> {
  const channel = fields.channel ?? 'sms';
  const at = fields.requestedAt ?? now();
  return build('MessageRequested', {
    messageId: newId(),
    conversationId: newId(),
    channel,
    from: senderFor(channel),
    to: channel === 'email' ? 'ada@example.com' : '+18045551234',
    body: 'hello',
    attachments: channel === 'mms' ? ['https://example.com/cat.png'] : [],
    subject: channel === 'email' ? 'hello' : null,
    cc: [],
    bcc: [],
    replyTo: null,
    timestamp: at,
    clientId: 'suite',
    segments: 1,
    requestedAt: at,
    ...fields,
  });
}

export function messageReceived(
  fields: Partial<MessageEventData<'MessageReceived'>> = {},
): MessageEventData<'MessageReceived'> {
  const channel = fields.channel ?? 'sms';
  const at = fields.receivedAt ?? now();
  return build('MessageReceived', {
    messageId: newId(),
    conversationId: newId(),
    channel,
    from: channel === 'email' ? 'ada@example.com' : '+18045551234',
    to: senderFor(channel),
    body: 'hi back',
    attachments: [],
    subject: null,
    cc: [],
    bcc: [],
    replyTo: null,
    timestamp: at,
    provider: channel === 'email' ? 'sendgrid' : 'twilio',
    providerMessageId: `prov-${newId()}`,
    receivedAt: at,
    ...fields,
  });
}

export function messageSent(
  messageId: string,
  fields: Partial<MessageEventData<'MessageSent'>> = {},
): MessageEventData<'MessageSent'> {
  return build('MessageSent', {
    messageId,
    provider: 'twilio',
    providerMessageId: `prov-${messageId}`,
    attempt: 1,
    sentAt: now(),
    ...fields,
  });
}

export function messageDelivered(
  messageId: string,
  fields: Partial<MessageEventData<'MessageDelivered'>> = {},
): MessageEventData<'MessageDelivered'> {
  return build('MessageDelivered', {
    messageId,
    provider: 'twilio',
    providerMessageId: `prov-${messageId}`,
    deliveredAt: now(),
    ...fields,
  });
}

export function messageFailed(
  messageId: string,
  fields: Partial<MessageEventData<'MessageFailed'>> = {},
): MessageEventData<'MessageFailed'> {
  return build('MessageFailed', {
    messageId,
    reason: 'provider rejected the message',
    attempts: 1,
    provider: 'twilio',
    providerStatus: 400,
    failedAt: now(),
    ...fields,
  });
}

export const eventMetadata = (fields: Partial<EventMetadata> = {}): EventMetadata => ({
  correlationId: newId(),
  causationId: null,
  actor: 'suite',
  schemaVersion: currentSchemaVersion,
  ...fields,
});

/**
 * The event as appended to `message-<messageId>`: its id is the domain's deterministic one for the kind
 * (`discriminator` tells apart repeated kinds, e.g. the attempt of a MessageSent).
 */
export function newMessageEvent<K extends MessageEventType>(
  type: K,
  data: MessageEventData<K>,
  options: { metadata?: Partial<EventMetadata>; discriminator?: string } = {},
): NewEvent<K, MessageEventData<K>> {
  return {
    id: messageEventId(data.messageId, type, options.discriminator),
    type,
    data,
    metadata: eventMetadata(options.metadata),
  };
}

/** The link the dispatcher appends before MessageSent: `streamId` and the event naming our message. */
export function providerMessageLinkEvent(provider: string, providerMessageId: string, messageId: string) {
  const { streamId, ...event } = providerMessageLink({ provider, providerMessageId, messageId, linkedAt: now() });
  return { streamId, event: { ...event, metadata: eventMetadata({ actor: 'dispatcher' }) } };
}
