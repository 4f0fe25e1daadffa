// `messages`: one row per message with its content and where it stands now (status, provider,
// attempts, timestamps). Status only moves forward (`nextStatus`), so a late or duplicate receipt never
// moves it back. A receipt moves it only once a MessageSent recorded its provider message id: one that
// reaches the log first is held in the row's `receipt_ledger` and applied when that MessageSent lands.
import {
  emptyReceiptLedger,
  type MessageEvent,
  type MessageStatus,
  matchReceipts,
  messageAccountOf,
  nextStatus,
  type ReceiptLedger,
} from '@hatch/domain';
import type { Queryable } from '@hatch/event-store';
import type { ProjectedEvent, Projection } from './projection.ts';
import { selectRowsByIdSql, writeRows } from './sql.ts';

export interface MessageRow {
  message_id: string;
  /** Null while only receipts have arrived (they do not name the account). */
  account_id: string | null;
  conversation_id: string | null;
  direction: 'outbound' | 'inbound' | null;
  channel: string | null;
  from_address: string | null;
  to_address: string | null;
  body: string | null;
  attachments: string[] | null;
  subject: string | null;
  cc: string[] | null;
  bcc: string[] | null;
  reply_to: string | null;
  client_id: string | null;
  status: MessageStatus;
  /** A scheduled send's due time. */
  send_at: string | null;
  cancelled_at: string | null;
  provider: string | null;
  provider_message_id: string | null;
  attempts: number;
  last_error: string | null;
  error_code: string | null;
  client_timestamp: string | null;
  occurred_at: string | null;
  next_attempt_at: string | null;
  sent_at: string | null;
  delivered_at: string | null;
  undelivered_at: string | null;
  failed_at: string | null;
  status_changed_at: string | null;
  created_position: string;
  updated_position: string;
  /** Provider message ids sent and receipts held until their MessageSent (domain receipt-matching). */
  receipt_ledger: ReceiptLedger;
}

export const messageColumns = [
  'message_id',
  'account_id',
  'conversation_id',
  'direction',
  'channel',
  'from_address',
  'to_address',
  'body',
  'attachments',
  'subject',
  'cc',
  'bcc',
  'reply_to',
  'client_id',
  'status',
  'send_at',
  'cancelled_at',
  'provider',
  'provider_message_id',
  'attempts',
  'last_error',
  'error_code',
  'client_timestamp',
  'occurred_at',
  'next_attempt_at',
  'sent_at',
  'delivered_at',
  'undelivered_at',
  'failed_at',
  'status_changed_at',
  'created_position',
  'updated_position',
  'receipt_ledger',
] as const satisfies readonly (keyof MessageRow)[];

/** When the fact an event reports happened (the event's own timestamp, not the wall clock). */
export function occurredAt(event: MessageEvent): string {
  switch (event.type) {
    case 'MessageRequested':
      return event.data.requestedAt;
    case 'MessageReceived':
      return event.data.receivedAt;
    case 'MessageSent':
      return event.data.sentAt;
    case 'MessageRetryScheduled':
      return event.data.scheduledAt;
    case 'MessageFailed':
      return event.data.failedAt;
    case 'MessageDelivered':
      return event.data.deliveredAt;
    case 'MessageUndelivered':
      return event.data.reportedAt;
    case 'MessageDispatchStarted':
      return event.data.startedAt;
    case 'MessageCancelled':
      return event.data.cancelledAt;
  }
}

function emptyMessage(messageId: string, position: string): MessageRow {
  return {
    message_id: messageId,
    account_id: null,
    conversation_id: null,
    direction: null,
    channel: null,
    from_address: null,
    to_address: null,
    body: null,
    attachments: null,
    subject: null,
    cc: null,
    bcc: null,
    reply_to: null,
    client_id: null,
    status: 'queued',
    send_at: null,
    cancelled_at: null,
    provider: null,
    provider_message_id: null,
    attempts: 0,
    last_error: null,
    error_code: null,
    client_timestamp: null,
    occurred_at: null,
    next_attempt_at: null,
    sent_at: null,
    delivered_at: null,
    undelivered_at: null,
    failed_at: null,
    status_changed_at: null,
    created_position: position,
    updated_position: position,
    receipt_ledger: emptyReceiptLedger(),
  };
}

/** Pure: the message row after `projected` (null: the message has no row yet). */
export function evolveMessage(current: MessageRow | null, projected: ProjectedEvent): MessageRow {
  const { event, position } = projected;
  const row: MessageRow = { ...(current ?? emptyMessage(event.data.messageId, position)), updated_position: position };
  // Rows written before the ledger existed have none (the receipt-matching migration backfills it).
  const { ledger, effective } = matchReceipts(row.receipt_ledger ?? emptyReceiptLedger(), event);
  row.receipt_ledger = ledger;
  let status: MessageStatus | null = current?.status ?? null;
  for (const e of effective) {
    const next = nextStatus(status, e);
    if (status === null || next !== status) row.status_changed_at = occurredAt(e);
    status = next;
    applyReceipt(row, e);
  }
  // A held receipt on a message with no row yet: the row exists, still queued.
  row.status = status ?? 'queued';
  switch (event.type) {
    case 'MessageRequested':
    case 'MessageReceived': {
      const d = event.data;
      row.account_id = messageAccountOf(d);
      row.conversation_id = d.conversationId;
      row.channel = d.channel;
      row.from_address = d.from;
      row.to_address = d.to;
      row.body = d.body;
      row.attachments = d.attachments;
      row.subject = d.subject;
      row.cc = d.cc;
      row.bcc = d.bcc;
      row.reply_to = d.replyTo;
      row.client_timestamp = d.timestamp;
      if (event.type === 'MessageRequested') {
        row.direction = 'outbound';
        row.client_id = event.data.clientId;
        row.occurred_at = event.data.requestedAt;
        row.send_at = event.data.sendAt ?? null;
      } else {
        row.direction = 'inbound';
        row.provider = event.data.provider;
        row.provider_message_id = event.data.providerMessageId;
        row.occurred_at = event.data.receivedAt;
      }
      break;
    }
    case 'MessageSent':
      // The send that the provider accepted names the provider (after a failover, the backup).
      if (event.data.attempt >= row.attempts || row.provider_message_id === null) {
        row.provider = event.data.provider;
        row.provider_message_id = event.data.providerMessageId;
        row.sent_at = event.data.sentAt;
      }
      row.attempts = Math.max(row.attempts, event.data.attempt);
      row.next_attempt_at = null;
      break;
    case 'MessageRetryScheduled':
      row.attempts = Math.max(row.attempts, event.data.attempt);
      row.last_error = event.data.reason;
      if (row.status === 'queued') row.next_attempt_at = event.data.dueAt;
      break;
    case 'MessageFailed':
      row.attempts = Math.max(row.attempts, event.data.attempts);
      row.last_error = event.data.reason;
      row.failed_at ??= event.data.failedAt;
      row.next_attempt_at = null;
      if (event.data.provider !== null) row.provider ??= event.data.provider;
      break;
    case 'MessageCancelled':
      row.cancelled_at ??= event.data.cancelledAt;
      break;
    default:
      // Receipts take effect through applyReceipt, once matched; MessageDispatchStarted changes nothing here.
      break;
  }
  return row;
}

/** What a receipt that took effect fills in (a held one fills in nothing until its MessageSent lands). */
function applyReceipt(row: MessageRow, event: MessageEvent) {
  if (event.type === 'MessageDelivered') {
    row.delivered_at ??= event.data.deliveredAt;
    row.provider ??= event.data.provider;
    row.provider_message_id ??= event.data.providerMessageId;
  } else if (event.type === 'MessageUndelivered') {
    row.undelivered_at ??= event.data.reportedAt;
    row.last_error = event.data.reason;
    row.error_code = event.data.errorCode;
    row.provider ??= event.data.provider;
    row.provider_message_id ??= event.data.providerMessageId;
  }
}

export const messagesProjection: Projection = {
  name: 'messages',
  tables: ['messages'],
  async apply(db: Queryable, schema: string, events: readonly ProjectedEvent[]) {
    if (events.length === 0) return;
    const ids = [...new Set(events.map((e) => e.event.data.messageId))];
    const { rows } = await db.query(selectRowsByIdSql(schema, 'messages', 'message_id', 'uuid'), [ids]);
    const state = new Map<string, MessageRow>();
    for (const r of rows) {
      const row = r.row as MessageRow;
      state.set(row.message_id, row);
    }
    const existing = new Set(state.keys());
    for (const e of events) {
      const id = e.event.data.messageId;
      state.set(id, evolveMessage(state.get(id) ?? null, e));
    }
    await writeRows<MessageRow>(
      db,
      { schema, table: 'messages', columns: messageColumns, key: 'message_id' },
      state.values(),
      existing,
    );
  },
};
