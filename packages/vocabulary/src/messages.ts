// The words a message is described with, shared by the domain, the query API and the browser inbox.
// Browser-safe: plain constants and types, no Node imports.

export const channels = ['sms', 'mms', 'email'] as const;
export type Channel = (typeof channels)[number];

export const directions = ['outbound', 'inbound'] as const;
export type Direction = (typeof directions)[number];

/** Every status a message can have, in the order the status machine moves through them. */
export const messageStatuses = [
  'scheduled',
  'queued',
  'received',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'cancelled',
] as const;
export type MessageStatus = (typeof messageStatuses)[number];

/**
 * The status machine's order: a status only moves to a higher rank (late or duplicate receipts never
 * move it back). Equal ranks are alternatives: sent or received; delivered, undelivered, failed or cancelled.
 */
export const statusRank: Readonly<Record<MessageStatus, number>> = {
  scheduled: 0,
  queued: 1,
  received: 2,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  cancelled: 3,
};

export const isTerminal = (status: MessageStatus): boolean => statusRank[status] === 3;

export const isMessageStatus = (value: string): value is MessageStatus =>
  (messageStatuses as readonly string[]).includes(value);

/** What a status-history entry reports: a status, or a retry (which leaves the message queued). */
export type ReportedStatus = MessageStatus | 'retry_scheduled';
