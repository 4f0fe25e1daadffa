/// <reference lib="dom" />
// One conversation's messages, oldest first, each with its live status and its history on demand.
import { statusRank } from '@hatch/vocabulary';
import { type ApiClient, type DisplayStatus, displayStatus, type Message } from '../api.ts';
import { channelLabel, clockTime, htmlToText, statusLine } from '../format.ts';
import { h, replaceChildren } from './dom.ts';

export function renderMessage(api: ApiClient, message: Message): HTMLLIElement {
  const historyId = `history-${message.id}`;
  const history = h('div', { class: 'history', id: historyId, hidden: true });
  const toggle = h(
    'button',
    { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': historyId },
    'Status history',
  );
  toggle.addEventListener('click', async () => {
    const open = toggle.getAttribute('aria-expanded') === 'true';
    toggle.setAttribute('aria-expanded', String(!open));
    history.hidden = open;
    if (open) return;
    replaceChildren(history, 'Loading…');
    try {
      const detail = await api.getMessage(message.id);
      replaceChildren(
        history,
        h(
          'ol',
          { 'aria-label': 'Status history' },
          detail.history.map((change) =>
            h(
              'li',
              {},
              h('time', { datetime: change.at }, clockTime(change.at)),
              ' ',
              h('strong', {}, change.status),
              change.detail ? ` — ${change.detail}` : '',
            ),
          ),
        ),
      );
    } catch (error) {
      replaceChildren(history, `Could not load the history: ${error instanceof Error ? error.message : error}`);
    }
  });

  const body =
    message.channel === 'email'
      ? h('p', { class: 'body' }, htmlToText(message.body))
      : h('p', { class: 'body' }, message.body);
  return h(
    'li',
    {
      class: `message ${message.direction}`,
      'data-message-id': message.id,
      'data-status': message.status,
    },
    h(
      'div',
      { class: 'meta' },
      h('span', { class: `channel channel-${message.channel}` }, channelLabel[message.channel]),
      ' ',
      h('span', {}, message.direction === 'inbound' ? `From ${message.from}` : `To ${message.to}`),
      ' · ',
      h('time', { datetime: message.createdAt }, clockTime(message.createdAt)),
    ),
    message.subject ? h('p', { class: 'subject' }, message.subject) : null,
    body,
    message.attachments.length
      ? h(
          'ul',
          { class: 'attachments', 'aria-label': 'Attachments' },
          message.attachments.map((url) =>
            h('li', {}, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url)),
          ),
        )
      : null,
    h(
      'div',
      { class: 'status-row' },
      h('span', { class: `status status-${message.status}`, 'data-status': message.status }, statusLine(message)),
      ' ',
      toggle,
    ),
    history,
  );
}

/** The status machine's order; a retrying message is still queued. */
const rank = (status: DisplayStatus) => statusRank[status === 'retrying' ? 'queued' : status];

/** Keeps the rendered list in step with the messages, replacing only the rows that changed. */
export class Timeline {
  readonly element = h('ol', { class: 'timeline', 'aria-label': 'Messages', 'aria-live': 'polite' });
  private readonly messages = new Map<string, Message>();
  private readonly rows = new Map<string, HTMLLIElement>();

  constructor(private readonly api: ApiClient) {}

  get size() {
    return this.messages.size;
  }

  all(): Message[] {
    return [...this.messages.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Shows a status the live stream announced before the message is refetched with its details. */
  applyStatus(messageId: string, status: string) {
    const message = this.messages.get(messageId);
    if (!message) return;
    const next = displayStatus(message.direction, status, null);
    if (rank(next) > rank(message.status)) this.upsert({ ...message, status: next, nextAttemptAt: null });
  }

  upsert(message: Message) {
    const previous = this.messages.get(message.id);
    if (previous && JSON.stringify(previous) === JSON.stringify(message)) return;
    // Answers to overlapping fetches can arrive out of order: never show a status moving back.
    if (previous && rank(message.status) < rank(previous.status)) return;
    this.messages.set(message.id, message);
    const row = renderMessage(this.api, message);
    const old = this.rows.get(message.id);
    this.rows.set(message.id, row);
    if (old) {
      // Keep an open history open across updates.
      if (old.querySelector('button[aria-expanded="true"]')) queueMicrotask(() => row.querySelector('button')?.click());
      old.replaceWith(row);
      return;
    }
    const next = this.all().find((m) => m.createdAt > message.createdAt && this.rows.get(m.id)?.isConnected);
    const nextRow = next ? this.rows.get(next.id) : null;
    if (nextRow) nextRow.before(row);
    else this.element.append(row);
    row.scrollIntoView?.({ block: 'nearest' });
  }
}
