/// <reference lib="dom" />
// The conversation list: participants, channel icons, last message and activity, unread marker.
import type { ConversationSummary } from '../api.ts';
import { channelIcon, channelLabel, relativeTime } from '../format.ts';
import { h, srOnly } from './dom.ts';

const seenKey = (id: string) => `hatch.seen.${id}`;

export function markSeen(conversation: ConversationSummary) {
  localStorage.setItem(seenKey(conversation.id), conversation.lastActivityAt);
}

export function isUnread(conversation: ConversationSummary, openId: string | null) {
  if (conversation.id === openId) return false;
  const seen = localStorage.getItem(seenKey(conversation.id));
  return seen === null || seen < conversation.lastActivityAt;
}

export function renderConversationItem(conversation: ConversationSummary, openId: string | null): HTMLLIElement {
  const unread = isUnread(conversation, openId);
  const current = conversation.id === openId;
  return h(
    'li',
    {
      class: `conversation${unread ? ' unread' : ''}${current ? ' current' : ''}`,
      'data-conversation-id': conversation.id,
    },
    h(
      'a',
      { href: `#/c/${encodeURIComponent(conversation.id)}`, 'aria-current': current ? 'page' : null },
      h(
        'span',
        { class: 'top' },
        h('span', { class: 'participants' }, conversation.participants.join(', ')),
        h('time', { datetime: conversation.lastActivityAt }, relativeTime(conversation.lastActivityAt)),
      ),
      h(
        'span',
        { class: 'bottom' },
        h(
          'span',
          { class: 'channels' },
          conversation.channels.map((c) =>
            h('span', { title: channelLabel[c], 'aria-hidden': 'true' }, channelIcon[c]),
          ),
          srOnly(`Channels: ${conversation.channels.map((c) => channelLabel[c]).join(', ')}.`),
        ),
        h(
          'span',
          { class: 'preview' },
          conversation.lastMessage
            ? `${conversation.lastMessage.direction === 'outbound' ? 'You: ' : ''}${conversation.lastMessage.preview}`
            : `${conversation.messageCount} messages`,
        ),
        unread ? h('span', { class: 'badge' }, 'new') : null,
      ),
    ),
  );
}
