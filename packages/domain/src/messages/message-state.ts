// A message's state folded from its stream: what the command side needs to judge a delivery receipt.
import type { Channel, MessageEvent } from './events.ts';
import { type MessageStatus, nextStatus } from './status.ts';

export interface MessageState {
  messageId: string;
  direction: 'outbound' | 'inbound';
  channel: Channel;
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
