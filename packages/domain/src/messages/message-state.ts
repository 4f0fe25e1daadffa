// A message's state folded from its stream: what the command side judges receipts and cancels on.
import type { Fold } from '../decider.ts';
import { type Channel, isMessageEventType, type MessageEvent, parseMessageEvent } from './events.ts';
import { type MessageStatus, nextStatus } from './status.ts';

export interface MessageState {
  messageId: string;
  direction: 'outbound' | 'inbound';
  channel: Channel;
  /** Our sender for an outbound message, the contact for an inbound one. */
  from: string;
  /** The client that requested an outbound send (null for inbound messages). */
  clientId: string | null;
  status: MessageStatus;
  /** Which provider took each provider message id (a send may fail over to the backup). */
  providerOf: Record<string, string>;
}

export function evolveMessage(state: MessageState | null, event: MessageEvent): MessageState | null {
  switch (event.type) {
    case 'MessageRequested':
    case 'MessageReceived':
      return {
        messageId: event.data.messageId,
        direction: event.type === 'MessageRequested' ? 'outbound' : 'inbound',
        channel: event.data.channel,
        from: event.data.from,
        clientId: event.type === 'MessageRequested' ? event.data.clientId : null,
        status: nextStatus(state?.status ?? null, event),
        providerOf: event.type === 'MessageReceived' ? { [event.data.providerMessageId]: event.data.provider } : {},
      };
    case 'MessageSent':
      if (!state) return state;
      return {
        ...state,
        status: nextStatus(state.status, event),
        providerOf: { ...state.providerOf, [event.data.providerMessageId]: event.data.provider },
      };
    default:
      return state ? { ...state, status: nextStatus(state.status, event) } : state;
  }
}

export const messageStateFrom = (events: readonly MessageEvent[]) =>
  events.reduce<MessageState | null>(evolveMessage, null);

export const messageFold: Fold<MessageState | null, MessageEvent> = {
  initialState: () => null,
  evolve: evolveMessage,
  parse: (type, data) => (isMessageEventType(type) ? parseMessageEvent(type, data) : null),
};
