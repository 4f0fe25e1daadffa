// Which customer events a log event becomes, for which account: pure, given what the notifier knows about
// messages (their account and participants) and senders (their owner). The body is serialised here once;
// the delivery row keeps those bytes, so every attempt and every replay sends the same body.
import {
  consentWebhookPayload,
  deterministicUuid,
  endpointWants,
  isConsentEventType,
  isMessageEventType,
  type MessageContext,
  messageAccountOf,
  messageContextOf,
  messageWebhookPayload,
  parseConsentEvent,
  parseMessageEvent,
} from '@hatch/domain';
import type { RecordedEvent } from '@hatch/event-store';
import { z } from 'zod';
import type { EndpointTarget, MessageRouteRow, NewDelivery } from './delivery-store.ts';

const uuid = z.uuid();

export interface Notification {
  accountId: string;
  eventId: string;
  position: string;
  type: string;
  body: string;
}

export interface RoutingLookup {
  messages: ReadonlyMap<string, MessageContext | MessageRouteRow>;
  senders: ReadonlyMap<string, string>;
}

/**
 * An event failing its schema is skipped (as the projector skips it), the same way on every run: one bad
 * event must not stop every account's webhooks behind it.
 */
export function parsedOrNull<T>(parse: () => T): T | null {
  try {
    return parse();
  } catch {
    return null;
  }
}

/** The message a content event creates (the route outcome events are read with), or null. */
export function messageRouteOf(event: RecordedEvent): MessageContext | null {
  if (event.type !== 'MessageRequested' && event.type !== 'MessageReceived') return null;
  const parsed = parsedOrNull(() => parseMessageEvent(event.type, event.data));
  if (!parsed) return null;
  if (parsed.type !== 'MessageRequested' && parsed.type !== 'MessageReceived') return null;
  return messageContextOf(parsed, messageAccountOf(parsed.data));
}

/** What the event needs looked up: a message id (outcomes, keyword opt-outs) or a sender (other opt-outs). */
export function lookupsOf(event: RecordedEvent): { messageId?: string; sender?: string } {
  const data = event.data as { messageId?: unknown; sender?: unknown };
  // Only a well-formed id is looked up (an invalid event is skipped later, it must not fail the query).
  const messageId = uuid.safeParse(data.messageId).success ? (data.messageId as string) : undefined;
  if (isMessageEventType(event.type)) return { messageId };
  if (isConsentEventType(event.type))
    return { messageId: messageId ?? undefined, sender: typeof data.sender === 'string' ? data.sender : undefined };
  return {};
}

/** The customer event for a log event, or null (not a customer event, or no account to tell). */
export function notificationFor(event: RecordedEvent, lookup: RoutingLookup): Notification | null {
  const base = { eventId: event.id, position: event.position };
  if (isMessageEventType(event.type)) {
    const parsed = parsedOrNull(() => parseMessageEvent(event.type, event.data));
    if (!parsed) return null;
    const route = messageRouteOf(event) ?? lookup.messages.get(parsed.data.messageId);
    if (!route) return null;
    const context: MessageContext = { ...route, channel: route.channel as MessageContext['channel'] };
    const payload = messageWebhookPayload(parsed, context);
    if (!payload) return null;
    return { ...base, accountId: route.accountId, type: payload.type, body: JSON.stringify(payload) };
  }
  if (isConsentEventType(event.type)) {
    const parsed = parsedOrNull(() => parseConsentEvent(event.type, event.data));
    if (!parsed) return null;
    const byMessage = parsed.data.messageId ? lookup.messages.get(parsed.data.messageId) : undefined;
    const accountId = byMessage?.accountId ?? lookup.senders.get(parsed.data.sender);
    if (!accountId) return null;
    const payload = consentWebhookPayload(parsed);
    return { ...base, accountId, type: payload.type, body: JSON.stringify(payload) };
  }
  return null;
}

/** webhook-id: one per (event, endpoint), the same on every retry and replay. */
export const webhookDeliveryId = (endpointId: string, eventId: string) =>
  deterministicUuid('hatch.webhook-delivery', endpointId, eventId);

export function deliveriesFor(notification: Notification, endpoints: readonly EndpointTarget[]): NewDelivery[] {
  return endpoints
    .filter((e) => endpointWants(e.eventTypes, notification.type))
    .map((e) => ({
      deliveryId: webhookDeliveryId(e.endpointId, notification.eventId),
      endpointId: e.endpointId,
      eventId: notification.eventId,
      eventPosition: notification.position,
      eventType: notification.type,
      body: notification.body,
    }));
}
