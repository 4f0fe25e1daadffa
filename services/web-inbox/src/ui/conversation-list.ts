/// <reference lib="dom" />
// The conversation list: participants, channel icons, last message and activity, unread marker.
import type { ConversationSummary } from '../api.ts';
import { channelLabel, relativeTime } from '../format.ts';
import { h, srOnly } from './dom.ts';

const seenKey = (id: string) => `hatch.seen.${id}`;

/** Remembers how many messages the conversation had when it was last on screen. */
export function markSeen(conversation: ConversationSummary) {
  localStorage.setItem(seenKey(conversation.id), String(conversation.messageCount));
}

/**
 * New to you: the latest message came from the contact and arrived after you last looked. Receipts
 * and your own sends do not count.
 */
export function isUnread(conversation: ConversationSummary, openId: string | null) {
  if (conversation.id === openId || conversation.lastMessage?.direction !== 'inbound') return false;
  const seen = Number(localStorage.getItem(seenKey(conversation.id)) ?? '0');
  return conversation.messageCount > seen;
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
        h(
          'span',
          { class: 'participants', title: conversation.participants.join(', ') },
          conversation.names.join(', '),
        ),
        h('time', { datetime: conversation.lastActivityAt }, relativeTime(conversation.lastActivityAt)),
      ),
      h(
        'span',
        { class: 'bottom' },
        h(
          'span',
          { class: 'channels' },
          srOnly('Channels: '),
          conversation.channels.map((c) => h('span', { class: `channel channel-${c}` }, channelLabel[c])),
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
