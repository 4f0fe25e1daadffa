// Pure presentation rules of the inbox (no DOM), unit-tested.
import type { Channel, Message, Problem } from './api.ts';

export const channelLabel: Record<Channel, string> = { sms: 'SMS', mms: 'MMS', email: 'Email' };

/** One line describing where a message stands, e.g. "Retrying at 14:03:05 (provider 503)". */
export function statusLine(
  message: Pick<Message, 'direction' | 'status' | 'statusReason' | 'nextAttemptAt'> & { sendAt?: string | null },
): string {
  if (message.direction === 'inbound') return 'Received';
  switch (message.status) {
    case 'scheduled':
      return `Scheduled${message.sendAt ? ` for ${clockTime(message.sendAt)}` : ''}`;
    case 'cancelled':
      return 'Cancelled';
    case 'queued':
      return 'Queued';
    case 'sent':
      return 'Sent';
    case 'delivered':
      return 'Delivered';
    case 'retrying':
      return `Retrying${message.nextAttemptAt ? ` at ${clockTime(message.nextAttemptAt)}` : ''}${message.statusReason ? ` (${message.statusReason})` : ''}`;
    case 'failed':
      return `Failed${message.statusReason ? `: ${message.statusReason}` : ''}`;
    case 'undelivered':
      return `Not delivered${message.statusReason ? `: ${message.statusReason}` : ''}`;
    default:
      return message.status;
  }
}

export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "just now", "5 min ago", "3 h ago", else a date. */
export function relativeTime(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(then).toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/**
 * Inline errors per form field from a validation problem: `body.to` → `to`; fields the form does
 * not show are collected under `''` so they are still displayed.
 */
export function fieldErrors(problem: Problem, formFields: readonly string[]): Map<string, string[]> {
  const byField = new Map<string, string[]>();
  const add = (field: string, message: string) => byField.set(field, [...(byField.get(field) ?? []), message]);
  for (const error of problem.errors) {
    const field = error.field.replace(/^body\./, '').split('.')[0] ?? '';
    if (formFields.includes(field)) add(field, error.message);
    else add('', error.field ? `${error.field}: ${error.message}` : error.message);
  }
  if (!problem.errors.length) add('', problem.detail ?? problem.title);
  return byField;
}

/** Attachment URLs typed one per line or comma-separated. */
export function parseAttachmentUrls(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export { htmlToText } from './html-text.ts';
