// How the log changes the dispatcher's schedule (which messages still need an attempt, and when).
// Pure: the service applies the changes in the same transaction as its checkpoint.
import type { RecordedEvent } from '@hatch/event-store';

export type ScheduleChange =
  | {
      kind: 'due';
      messageId: string;
      streamVersion: number;
      dueAtMs: number;
      /** Set when the message's whole stream so far is this one request (a fresh message). */
      request?: RecordedEvent;
    }
  | { kind: 'done'; messageId: string; streamVersion: number };

const messageIdOf = (streamId: string) => (streamId.startsWith('message-') ? streamId.slice('message-'.length) : null);

/** The net change per message for a batch of events in log order (the last event of a message wins). */
export function scheduleChanges(events: RecordedEvent[]): ScheduleChange[] {
  const changes = new Map<string, ScheduleChange>();
  for (const event of events) {
    const messageId = messageIdOf(event.streamId);
    if (!messageId) continue;
    const data = event.data as { requestedAt?: string; dueAt?: string; sendAt?: string };
    switch (event.type) {
      case 'MessageRequested':
        changes.set(messageId, {
          kind: 'due',
          messageId,
          streamVersion: event.streamVersion,
          // A scheduled send is due at its send_at; the due time lives in the log, so restarts keep it.
          dueAtMs: Date.parse(data.sendAt ?? data.requestedAt ?? event.recordedAt),
          ...(event.streamVersion === 0 ? { request: event } : {}),
        });
        break;
      case 'MessageRetryScheduled':
        changes.set(messageId, {
          kind: 'due',
          messageId,
          streamVersion: event.streamVersion,
          dueAtMs: Date.parse(data.dueAt ?? event.recordedAt),
        });
        break;
      // Receipts leave the schedule alone: only our own outcome ends a dispatch (receipt-matching.ts).
      case 'MessageSent':
      case 'MessageFailed':
      case 'MessageCancelled':
        changes.set(messageId, { kind: 'done', messageId, streamVersion: event.streamVersion });
        break;
      default:
        break;
    }
  }
  return [...changes.values()];
}
