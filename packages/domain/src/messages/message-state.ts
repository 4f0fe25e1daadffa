// A message's state folded from its stream: what the command side judges receipts and cancels on.
import type { Fold } from '../decider.ts';
import { type Channel, isMessageEventType, type MessageEvent, messageAccountOf, parseMessageEvent } from './events.ts';
import { emptyReceiptLedger, matchReceipts, type ReceiptLedger } from './receipt-matching.ts';
import { type MessageStatus, nextStatus } from './status.ts';

export interface MessageState {
  messageId: string;
  /** The account the message belongs to (v1 events: the local account). */
  accountId: string;
  direction: 'outbound' | 'inbound';
  channel: Channel;
  /** Our sender for an outbound message, the contact for an inbound one. */
  from: string;
  /** The client that requested an outbound send (null for inbound messages). */
  clientId: string | null;
  status: MessageStatus;
  /** Which provider took each provider message id (a send may fail over to the backup). */
  providerOf: Record<string, string>;
  /** Receipts held until a MessageSent names their provider message id (receipt-matching.ts). */
  receipts: ReceiptLedger;
}

/** Status moves only on the events that take effect now: a receipt waits for its MessageSent. */
export function evolveMessage(state: MessageState | null, event: MessageEvent): MessageState | null {
  const next = evolveFacts(state, event);
  if (!next) return next;
  const { ledger, effective } = matchReceipts(state?.receipts ?? emptyReceiptLedger(), event);
  const status = effective.reduce<MessageStatus | null>((s, e) => nextStatus(s, e), state?.status ?? null);
  return { ...next, receipts: ledger, status: status ?? next.status };
}

/** What the event says about the message besides its status (set by evolveMessage). */

function evolveFacts(state: MessageState | null, event: MessageEvent): MessageState | null {
  switch (event.type) {
    case 'MessageRequested':
    case 'MessageReceived':
      return {
        messageId: event.data.messageId,
        accountId: messageAccountOf(event.data),
        direction: event.type === 'MessageRequested' ? 'outbound' : 'inbound',
        channel: event.data.channel,
        from: event.data.from,
        clientId: event.type === 'MessageRequested' ? event.data.clientId : null,
        status: state?.status ?? 'queued',
        providerOf: event.type === 'MessageReceived' ? { [event.data.providerMessageId]: event.data.provider } : {},
        receipts: state?.receipts ?? emptyReceiptLedger(),
      };
    case 'MessageSent':
      if (!state) return state;
      return {
        ...state,
        providerOf: { ...state.providerOf, [event.data.providerMessageId]: event.data.provider },
      };
    default:
      return state;
  }
}

export const messageStateFrom = (events: readonly MessageEvent[]) =>
  events.reduce<MessageState | null>(evolveMessage, null);

export const messageFold: Fold<MessageState | null, MessageEvent> = {
  initialState: () => null,
  evolve: evolveMessage,
  parse: (type, data) => (isMessageEventType(type) ? parseMessageEvent(type, data) : null),
};
