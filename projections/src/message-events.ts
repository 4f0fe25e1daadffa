// `message_events`: every event of a message's lifecycle, in log order — its status history. Rows are
// keyed by (message, log position), so the same event can never be recorded twice.
import { reportedStatus } from '@hatch/domain';
import type { Queryable } from '@hatch/event-store';
import { occurredAt } from './messages.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { qualified } from './sql.ts';

export interface MessageEventRow {
  message_id: string;
  position: string;
  event_id: string;
  event_type: string;
  status: string;
  occurred_at: string;
  recorded_at: string;
  provider: string | null;
  provider_message_id: string | null;
  attempt: number | null;
  reason: string | null;
  provider_status: number | null;
  error_code: string | null;
  due_at: string | null;
}

/** One place decides what status an event reports: the domain. */
export { reportedStatus };

/** Pure: the history row of one event. */
export function messageEventRow({ eventId, position, recordedAt, event }: ProjectedEvent): MessageEventRow {
  const row: MessageEventRow = {
    message_id: event.data.messageId,
    position,
    event_id: eventId,
    event_type: event.type,
    status: reportedStatus(event),
    occurred_at: occurredAt(event),
    recorded_at: recordedAt,
    provider: null,
    provider_message_id: null,
    attempt: null,
    reason: null,
    provider_status: null,
    error_code: null,
    due_at: null,
  };
  switch (event.type) {
    case 'MessageRequested':
      break;
    case 'MessageReceived':
    case 'MessageDelivered':
      row.provider = event.data.provider;
      row.provider_message_id = event.data.providerMessageId;
      break;
    case 'MessageSent':
      row.provider = event.data.provider;
      row.provider_message_id = event.data.providerMessageId;
      row.attempt = event.data.attempt;
      break;
    case 'MessageRetryScheduled':
      row.provider = event.data.provider;
      row.attempt = event.data.attempt;
      row.reason = event.data.reason;
      row.provider_status = event.data.providerStatus;
      row.due_at = event.data.dueAt;
      break;
    case 'MessageFailed':
      row.provider = event.data.provider;
      row.attempt = event.data.attempts;
      row.reason = event.data.reason;
      row.provider_status = event.data.providerStatus;
      break;
    case 'MessageUndelivered':
      row.provider = event.data.provider;
      row.provider_message_id = event.data.providerMessageId;
      row.reason = event.data.reason;
      row.error_code = event.data.errorCode;
      break;
  }
  return row;
}

const columns = [
  'message_id',
  'position',
  'event_id',
  'event_type',
  'status',
  'occurred_at',
  'recorded_at',
  'provider',
  'provider_message_id',
  'attempt',
  'reason',
  'provider_status',
  'error_code',
  'due_at',
] as const satisfies readonly (keyof MessageEventRow)[];

export const messageEventsProjection: Projection = {
  name: 'message_events',
  tables: ['message_events'],
  async apply(db: Queryable, schema: string, events: readonly ProjectedEvent[]) {
    if (events.length === 0) return;
    const table = qualified(schema, 'message_events');
    await db.query(
      `INSERT INTO ${table} (${columns.join(', ')})
       SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${table}, $1::json)
       ON CONFLICT (message_id, position) DO NOTHING`,
      [JSON.stringify(events.map(messageEventRow))],
    );
  },
};
