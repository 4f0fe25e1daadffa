// A message's status only moves forward: scheduled < queued < sent < delivered | undelivered | failed
// (a scheduled send may also end cancelled).
// Late or duplicate receipts never move it back; a retry keeps it queued.
// The statuses and their order are the shared vocabulary (the inbox orders its timeline by them).
import { type MessageStatus, type ReportedStatus, statusRank as rank } from '@hatch/vocabulary';
import type { MessageEvent } from './events.ts';

export type { MessageStatus, ReportedStatus } from '@hatch/vocabulary';
export { isTerminal, messageStatuses, statusRank } from '@hatch/vocabulary';

/** The status after `event`, or the same status when the event may not move it. */
export function nextStatus(current: MessageStatus | null, event: MessageEvent): MessageStatus {
  const proposed = statusOf(event);
  if (current === null) return proposed ?? 'queued';
  if (proposed === null) return current;
  return rank[proposed] > rank[current] ? proposed : current;
}

/** The status an event reports, as the status history shows it (a retry reports `retry_scheduled`). */
export function reportedStatus(event: MessageEvent): ReportedStatus {
  switch (event.type) {
    case 'MessageRequested':
      return event.data.sendAt ? 'scheduled' : 'queued';
    case 'MessageDispatchStarted':
      return 'queued';
    case 'MessageCancelled':
      return 'cancelled';
    case 'MessageReceived':
      return 'received';
    case 'MessageSent':
      return 'sent';
    case 'MessageRetryScheduled':
      return 'retry_scheduled';
    case 'MessageFailed':
      return 'failed';
    case 'MessageDelivered':
      return 'delivered';
    case 'MessageUndelivered':
      return 'undelivered';
  }
}

/** A retry leaves the message where it is (queued); every other event proposes its reported status. */
function statusOf(event: MessageEvent): MessageStatus | null {
  const reported = reportedStatus(event);
  return reported === 'retry_scheduled' ? null : reported;
}
