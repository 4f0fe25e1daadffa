// Which delivery receipts count. A receipt (MessageDelivered / MessageUndelivered) is always recorded as the
// provider reported it — the log is the truth of what was said — but it moves the message's status only
// once a MessageSent in the same stream recorded its provider message id. A receipt that arrives first
// (the provider's callback can beat the dispatcher's append) is held and takes effect when that MessageSent
// lands; one whose id no MessageSent ever names never does, so no receipt marks an unsent message delivered.
// Every fold of a message's status (the command side's state, the messages projection) goes through here.
import type { MessageEvent, MessageEventOf } from './events.ts';

type Receipt = MessageEventOf<'MessageDelivered' | 'MessageUndelivered'>;

export interface ReceiptLedger {
  /** Provider message ids a MessageSent recorded, with the provider that took each. */
  sent: Record<string, string>;
  /** Receipts recorded before any MessageSent named their provider message id, in log order. */
  held: Receipt[];
}

export const emptyReceiptLedger = (): ReceiptLedger => ({ sent: {}, held: [] });

const isReceipt = (event: MessageEvent): event is Receipt =>
  event.type === 'MessageDelivered' || event.type === 'MessageUndelivered';

/**
 * The ledger after `event`, and the events whose effect on the status applies now, in order: the event
 * itself, nothing (a held receipt), or a MessageSent followed by the receipts it releases.
 */
export function matchReceipts(
  ledger: ReceiptLedger,
  event: MessageEvent,
): { ledger: ReceiptLedger; effective: MessageEvent[] } {
  if (event.type === 'MessageSent') {
    const id = event.data.providerMessageId;
    const released = ledger.held.filter((r) => r.data.providerMessageId === id);
    return {
      ledger: {
        sent: { ...ledger.sent, [id]: event.data.provider },
        held: released.length ? ledger.held.filter((r) => r.data.providerMessageId !== id) : ledger.held,
      },
      effective: [event, ...released],
    };
  }
  if (isReceipt(event) && !(event.data.providerMessageId in ledger.sent))
    return { ledger: { ...ledger, held: [...ledger.held, event] }, effective: [] };
  return { ledger, effective: [event] };
}
