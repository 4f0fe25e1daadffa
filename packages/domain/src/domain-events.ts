// Every event the read side folds: message lifecycles, consent changes, contacts and accounts.
import {
  type AccountEvent,
  isAccountEventType,
  isSenderClaimEventType,
  parseAccountEvent,
  parseSenderClaimEvent,
  type SenderClaimEvent,
} from './accounts/events.ts';
import { type ConsentEvent, isConsentEventType, parseConsentEvent } from './consent/consent.ts';
import { type ContactEvent, isContactEventType, parseContactEvent } from './contacts/events.ts';
import { isMessageEventType, type MessageEvent, parseMessageEvent } from './messages/events.ts';

export type DomainEvent = MessageEvent | ConsentEvent | ContactEvent | AccountEvent | SenderClaimEvent;

export const isDomainEventType = (type: string) =>
  isMessageEventType(type) ||
  isConsentEventType(type) ||
  isContactEventType(type) ||
  isAccountEventType(type) ||
  isSenderClaimEventType(type);

/** Validates any known event; throws for unknown types or invalid data. */
export function parseDomainEvent(type: string, data: unknown): DomainEvent {
  if (isMessageEventType(type)) return parseMessageEvent(type, data);
  if (isConsentEventType(type)) return parseConsentEvent(type, data);
  if (isAccountEventType(type)) return parseAccountEvent(type, data);
  if (isSenderClaimEventType(type)) return parseSenderClaimEvent(type, data);
  return parseContactEvent(type, data);
}

export const isMessageEvent = (event: DomainEvent): event is MessageEvent => isMessageEventType(event.type);
