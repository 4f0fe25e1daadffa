// A message's status only moves forward: queued < sent < delivered | undelivered | failed.
// Late or duplicate receipts never move it back; a retry keeps it queued.
import type { MessageEvent } from './events.ts';

export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';

const rank: Record<MessageStatus, number> = {
  queued: 0,
  received: 1,
  sent: 1,
  delivered: 2,
  undelivered: 2,
  failed: 2,
};

export const isTerminal = (status: MessageStatus) => rank[status] === 2;

/** The status after `event`, or the same status when the event may not move it. */
export function nextStatus(current: MessageStatus | null, event: MessageEvent): MessageStatus {
  const proposed = statusOf(event);
  if (current === null) return proposed ?? 'queued';
  if (proposed === null) return current;
  return rank[proposed] > rank[current] ? proposed : current;
}

function statusOf(event: MessageEvent): MessageStatus | null {
  switch (event.type) {
    case 'MessageRequested':
      return 'queued';
    case 'MessageReceived':
      return 'received';
    case 'MessageSent':
      return 'sent';
    case 'MessageRetryScheduled':
      return null;
    case 'MessageFailed':
      return 'failed';
    case 'MessageDelivered':
      return 'delivered';
    case 'MessageUndelivered':
      return 'undelivered';
  }
}
