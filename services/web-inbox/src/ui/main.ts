/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The inbox application: hash routes (#/, #/c/<id>, #/new, #/ops, #/sign-in), the conversation list, the
// open conversation's timeline and composer, the operations view, and the live stream driving them. It acts
// for the signed-in account (session cookie), or the local account where the server allows keyless use.
import { channels } from '@hatch/vocabulary';
import { type Channel, type ConversationSummary, createApiClient, type Message, Problem } from '../api.ts';
import { channelLabel } from '../format.ts';
import { type ComposerDefaults, renderComposer, type SentDraft } from './composer.ts';
import { markSeen, renderConversationItem } from './conversation-list.ts';
import { h, replaceChildren } from './dom.ts';
import { type ConnectionState, connectLive, type LiveChange } from './live.ts';
import { renderOperations } from './operations-view.ts';
import { recheckSession, renderAccountBar, renderSignIn, type Viewer, whoIsViewing } from './sign-in.ts';
import { Timeline } from './timeline.ts';
import './styles.css';

const api = createApiClient();
let viewer: Viewer = { kind: 'local' };

type Route =
  | { name: 'inbox' }
  | { name: 'conversation'; id: string }
  | { name: 'new' }
  | { name: 'ops' }
  | { name: 'sign-in' };

const layout = document.getElementById('layout')!;
const listPane = document.getElementById('list-pane')!;
const detailPane = document.getElementById('detail-pane')!;
const connection = document.getElementById('connection')!;
const announcer = document.getElementById('announcer')!;

const announce = (text: string) => {
  announcer.textContent = '';
  setTimeout(() => {
    announcer.textContent = text;
  }, 30);
};

// ---- conversation list ---------------------------------------------------------------------------

const listState = {
  participant: '',
  channel: '' as Channel | '',
  items: [] as ConversationSummary[],
  nextCursor: null as string | null,
  loaded: false,
  /** Log position of the first page shown. */
  position: null as string | null,
  error: null as string | null,
};

const searchInput = h('input', {
  type: 'search',
  id: 'search',
  placeholder: 'Phone or email',
  autocomplete: 'off',
});
const channelFilter = h(
  'select',
  { id: 'channel-filter' },
  h('option', { value: '' }, 'All channels'),
  ...channels.map((c) => h('option', { value: c }, channelLabel[c])),
);
const conversationList = h('ul', { class: 'conversations', 'aria-label': 'Conversations' });
const listStatus = h('p', { class: 'list-status', role: 'status' });
const moreButton = h('button', { type: 'button', hidden: true }, 'Load more');

replaceChildren(
  listPane,
  h('h2', { id: 'list-heading', class: 'sr-only' }, 'Conversations'),
  h(
    'form',
    { class: 'search', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
    h('label', { for: 'search' }, 'Search by participant'),
    searchInput,
    h('label', { for: 'channel-filter', class: 'sr-only' }, 'Channel'),
    channelFilter,
  ),
  listStatus,
  conversationList,
  moreButton,
);

function openConversationId(): string | null {
  return route.name === 'conversation' ? route.id : null;
}

function renderList() {
  replaceChildren(
    conversationList,
    listState.items.map((c) => renderConversationItem(c, openConversationId())),
  );
  moreButton.hidden = !listState.nextCursor;
  listStatus.textContent = listState.error
    ? `Could not load conversations: ${listState.error}`
    : !listState.loaded
      ? 'Loading…'
      : listState.items.length
        ? ''
        : listState.participant || listState.channel
          ? 'No conversation matches.'
          : 'No conversations yet. Start one with “New message”.';
}

let listRequest = 0;
async function loadList(append = false) {
  const request = ++listRequest;
  try {
    const page = await api.listConversations({
      participant: listState.participant || undefined,
      channel: listState.channel || undefined,
      cursor: append ? (listState.nextCursor ?? undefined) : undefined,
    });
    if (request !== listRequest) return;
    listState.error = null;
    if (append) {
      const known = new Set(listState.items.map((c) => c.id));
      listState.items = [...listState.items, ...page.items.filter((c) => !known.has(c.id))];
    } else {
      listState.items = page.items;
      listState.position = page.position;
    }
    listState.nextCursor = page.nextCursor;
    listState.loaded = true;
    const shown = listState.items.find((c) => c.id === openConversationId());
    if (shown) markSeen(shown);
  } catch (error) {
    if (request !== listRequest) return;
    listState.error = error instanceof Error ? error.message : String(error);
    if (error instanceof Problem && error.status === 401) void recheckSession(api, viewer);
  }
  renderList();
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    listState.participant = searchInput.value.trim();
    void loadList();
  }, 200);
});
channelFilter.addEventListener('change', () => {
  listState.channel = channelFilter.value as Channel | '';
  void loadList();
});
moreButton.addEventListener('click', () => void loadList(true));

// ---- the open conversation ---------------------------------------------------------------------

interface OpenConversation {
  id: string;
  summary: ConversationSummary | null;
  timeline: Timeline;
  header: HTMLElement;
}
let open: OpenConversation | null = null;

const localDefaults = (): ComposerDefaults => ({
  channel: (localStorage.getItem('hatch.channel') as Channel | null) ?? 'sms',
  from: localStorage.getItem('hatch.from') ?? '',
  to: '',
});

function rememberSender(sent: SentDraft) {
  localStorage.setItem('hatch.channel', sent.channel);
  localStorage.setItem('hatch.from', sent.from);
}

/** Our address and the contact's, from the latest message of the conversation. */
function replyDefaults(messages: Message[], summary: ConversationSummary | null): ComposerDefaults {
  const last = messages.at(-1);
  if (!last) {
    const fallback = localDefaults();
    const to = summary?.participants.find((p) => p !== fallback.from) ?? '';
    return { ...fallback, to, channel: summary?.channels[0] ?? fallback.channel };
  }
  const lastSubject = messages.findLast((m) => m.subject)?.subject;
  const subject = lastSubject ? (/^re:/i.test(lastSubject) ? lastSubject : `Re: ${lastSubject}`) : undefined;
  return last.direction === 'outbound'
    ? { channel: last.channel, from: last.from, to: last.to, subject }
    : { channel: last.channel, from: last.to, to: last.from, subject };
}

function optimisticMessage(sent: SentDraft): Message {
  const now = new Date().toISOString();
  return {
    id: sent.id,
    conversationId: sent.conversationId,
    direction: 'outbound',
    channel: sent.channel,
    from: sent.from,
    to: sent.to,
    subject: sent.subject,
    body: sent.body,
    attachments: sent.attachments,
    status: 'queued',
    statusReason: null,
    nextAttemptAt: null,
    sendAt: null,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  };
}

function onSent(sent: SentDraft) {
  rememberSender(sent);
  announce('Message queued');
  if (open?.id === sent.conversationId) {
    open.timeline.upsert(optimisticMessage(sent));
    void refreshMessage(sent.id, sent.position);
  } else {
    pendingSends.set(sent.id, sent);
    location.hash = `#/c/${encodeURIComponent(sent.conversationId)}`;
  }
}
/** Sends to a conversation not yet open: shown at once when it opens. */
const pendingSends = new Map<string, SentDraft>();

function renderConversationHeader(target: HTMLElement, summary: ConversationSummary | null, id: string) {
  replaceChildren(
    target,
    h('a', { href: '#/', class: 'back' }, '← Conversations'),
    h('h2', { id: 'conversation-heading', tabindex: '-1' }, summary ? summary.names.join(', ') : 'Conversation'),
    summary ? null : h('p', { class: 'hint' }, `Waiting for conversation ${id} to appear…`),
  );
}

async function loadAllMessages(conversationId: string): Promise<Message[]> {
  const all: Message[] = [];
  let cursor: string | undefined;
  // Bounded: a very long conversation shows its first 20 pages.
  for (let page = 0; page < 20; page++) {
    const result = await api.listMessages(conversationId, { cursor, limit: 100 });
    all.push(...result.items);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return all;
}

async function showConversation(id: string) {
  const timeline = new Timeline(api);
  const header = h('header', { class: 'conversation-header' });
  open = { id, summary: null, timeline, header };
  const composerSlot = h('div', { class: 'composer-slot' });
  replaceChildren(detailPane, header, timeline.element, composerSlot);
  renderConversationHeader(header, null, id);
  for (const sent of pendingSends.values()) {
    if (sent.conversationId === id) timeline.upsert(optimisticMessage(sent));
  }
  await reloadOpenConversation();
  if (open?.id !== id) return;
  const defaults = replyDefaults(timeline.all(), open.summary);
  composerSlot.append(renderComposer({ api, defaults, heading: 'Reply', onSent }));
  (header.querySelector('h2') as HTMLElement | null)?.focus({ preventScroll: true });
}

async function reloadOpenConversation() {
  const current = open;
  if (!current) return;
  // Read-your-writes: a send made just before opening must be in the answer.
  const after = [...pendingSends.values()]
    .filter((s) => s.conversationId === current.id)
    .map((s) => s.position)
    .sort()
    .at(-1);
  try {
    const summary = await api.getConversation(current.id, after);
    const messages = await loadAllMessages(current.id);
    if (open !== current) return;
    current.summary = summary;
    markSeen(summary);
    renderConversationHeader(current.header, summary, current.id);
    for (const message of messages) {
      current.timeline.upsert(message);
      pendingSends.delete(message.id);
    }
  } catch (error) {
    // 404: the projection has not caught up with a brand-new conversation; the live stream reloads it.
    if (error instanceof Problem && error.status === 404) return;
    replaceChildren(current.header, h('p', { class: 'form-error', role: 'alert' }, `Could not load: ${error}`));
  }
}

async function refreshMessage(messageId: string, after?: string) {
  const current = open;
  if (!current) return;
  try {
    const message = await api.getMessage(messageId, after);
    if (open !== current || message.conversationId !== current.id) return;
    const before = current.timeline.all().find((m) => m.id === messageId)?.status;
    current.timeline.upsert(message);
    pendingSends.delete(messageId);
    if (before && before !== message.status) announce(`Message ${message.status}`);
  } catch (error) {
    if (!(error instanceof Problem && error.status === 404)) throw error;
  }
}

// ---- new message and operations ------------------------------------------------------------------

function showNewMessage() {
  open = null;
  replaceChildren(
    detailPane,
    h('a', { href: '#/', class: 'back' }, '← Conversations'),
    renderComposer({ api, defaults: localDefaults(), heading: 'New message', onSent }),
  );
  (detailPane.querySelector('select, input') as HTMLElement | null)?.focus();
}

let opsTimer: ReturnType<typeof setInterval> | undefined;
function showOperations() {
  open = null;
  const body = h('div', { 'aria-live': 'polite' }, 'Loading…');
  replaceChildren(detailPane, h('h2', { tabindex: '-1', id: 'ops-heading' }, 'Operations'), body);
  const refresh = async () => {
    try {
      replaceChildren(body, renderOperations(await api.operations()));
    } catch (error) {
      replaceChildren(body, h('p', { class: 'form-error' }, `Operations are unavailable: ${error}`));
    }
  };
  void refresh();
  opsTimer = setInterval(refresh, 3000);
  (detailPane.querySelector('h2') as HTMLElement).focus();
}

// ---- routing -----------------------------------------------------------------------------------

function parseRoute(hash: string): Route {
  const [, first, second] = hash.replace(/^#/, '').split('/');
  if (first === 'c' && second) return { name: 'conversation', id: decodeURIComponent(second) };
  if (first === 'new') return { name: 'new' };
  if (first === 'ops') return { name: 'ops' };
  if (first === 'sign-in') return { name: 'sign-in' };
  return { name: 'inbox' };
}

let route: Route = parseRoute(location.hash);

function applyRoute() {
  route = parseRoute(location.hash);
  clearInterval(opsTimer);
  layout.dataset.view = route.name;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    const target = parseRoute(link.hash).name;
    const current = target === route.name || (target === 'inbox' && route.name === 'conversation');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (route.name === 'conversation') void showConversation(route.id);
  else if (route.name === 'new') showNewMessage();
  else if (route.name === 'ops') showOperations();
  else if (route.name === 'sign-in') {
    open = null;
    renderSignIn(detailPane, api, viewer);
  } else {
    open = null;
    replaceChildren(detailPane, h('p', { class: 'empty' }, 'Pick a conversation, or start a new message.'));
  }
  renderList();
}

// ---- live updates --------------------------------------------------------------------------------

const connectionText: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

let listRefresh: ReturnType<typeof setTimeout> | undefined;
function scheduleListRefresh() {
  clearTimeout(listRefresh);
  listRefresh = setTimeout(() => void loadList(), 150);
}

function onLiveChange(change: LiveChange) {
  scheduleListRefresh();
  if (!open) return;
  if (change.conversationId && change.conversationId !== open.id) return;
  if (!open.summary || !change.messageId) {
    void reloadOpenConversation();
    return;
  }
  if (change.status) open.timeline.applyStatus(change.messageId, change.status);
  void refreshMessage(change.messageId);
}

async function start() {
  window.addEventListener('hashchange', applyRoute);
  // Keep relative times fresh and unread markers honest.
  setInterval(renderList, 30_000);
  applyRoute();
  await loadList();
  startLive();
}

/** Production without a session: nothing but the sign-in form until signed in. */
function showSignInOnly() {
  layout.dataset.view = 'sign-in';
  listPane.hidden = true;
  for (const link of document.querySelectorAll<HTMLElement>('nav')) link.hidden = true;
  connection.dataset.state = 'offline';
  connection.textContent = 'Signed out';
  renderSignIn(detailPane, api, viewer);
}

const startLive = () =>
  connectLive({
    url: (lastEventId) => api.streamUrl({ lastEventId }),
    startAfter: listState.position,
    eventNames: [
      'MessageRequested',
      'MessageReceived',
      'MessageSent',
      'MessageRetryScheduled',
      'MessageFailed',
      'MessageDelivered',
      'MessageUndelivered',
    ],
    onChange: onLiveChange,
    onState(state, detail) {
      connection.dataset.state = state;
      connection.textContent =
        state === 'offline' && detail.retryInMs
          ? `${connectionText[state]} — retrying in ${Math.round(detail.retryInMs / 1000)} s`
          : connectionText[state];
      connection.title = detail.lastEventId ? `Last event ${detail.lastEventId}` : '';
      if (state === 'offline') void recheckSession(api, viewer);
    },
    onResync() {
      void loadList();
      void reloadOpenConversation();
    },
  });

// A server that cannot be asked is shown like before (the list says why); a session is never assumed.
viewer = await whoIsViewing(api).catch((): Viewer => ({ kind: 'local' }));
renderAccountBar(document.getElementById('account')!, api, viewer);
if (viewer.kind === 'signed-out') showSignInOnly();
else await start();
