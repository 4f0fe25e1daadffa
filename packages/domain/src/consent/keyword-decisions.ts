// What an inbound keyword message (STOP, START, HELP, …) leads to: a consent change on the stream of
// (family, our number, their number) and an automatic reply through the normal outbound path. The change's
// id derives from the inbound message's (a re-delivered webhook changes nothing); the reply's from the
// keyword and its time window, so a contact repeating HELP gets one answer per window (consent.ts).

import type { SendMessage } from '../messages/commands.ts';
import { type MessageEventOf, messageAccountOf } from '../messages/events.ts';
import {
  type ConsentEventType,
  consentEventId,
  consentFamilyOf,
  consentReplyClientId,
  consentReplyMessageId,
  consentReplyWindowMs,
  consentStreamId,
} from './consent.ts';
import { consentKeyword, consentReplies } from './keywords.ts';

export interface ConsentChange {
  streamId: string;
  event: {
    id: string;
    type: ConsentEventType;
    data: {
      accountId: string;
      channel: 'sms' | 'email';
      sender: string;
      address: string;
      source: 'keyword' | 'unsubscribe';
      keyword: string | null;
      messageId: string | null;
      providerEventId: string | null;
      changedAt: string;
    };
  };
}

export interface KeywordOutcome {
  /** Null for HELP (nothing changes). */
  change: ConsentChange | null;
  reply: SendMessage;
}

/** Null when the message is not a keyword (or is email: carriers' keywords are an SMS/MMS rule). */
export function decideInboundKeyword(
  received: MessageEventOf<'MessageReceived'>['data'],
  replyWindowMs = consentReplyWindowMs,
): KeywordOutcome | null {
  if (received.channel === 'email') return null;
  const keyword = consentKeyword(received.body);
  if (!keyword) return null;
  // Our number is the one they wrote to; theirs is the sender of the keyword.
  const sender = received.to;
  const address = received.from;
  const family = consentFamilyOf(received.channel);
  // The account the keyword was routed to: the one owning the number they wrote to.
  const accountId = messageAccountOf(received);
  let change: ConsentChange | null = null;
  if (keyword.kind !== 'help') {
    const type: ConsentEventType = keyword.kind === 'opt_out' ? 'ContactOptedOut' : 'ContactOptedIn';
    change = {
      streamId: consentStreamId(family, sender, address),
      event: {
        id: consentEventId(type, received.messageId),
        type,
        data: {
          accountId,
          channel: family,
          sender,
          address,
          source: 'keyword',
          keyword: keyword.keyword,
          messageId: received.messageId,
          providerEventId: null,
          changedAt: received.receivedAt,
        },
      },
    };
  }
  const reply: SendMessage = {
    type: 'SendMessage',
    data: {
      channel: 'sms',
      from: sender,
      to: address,
      body: consentReplies[keyword.kind],
      attachments: [],
      timestamp: received.receivedAt,
      messageId: consentReplyMessageId(sender, address, keyword.kind, received.receivedAt, replyWindowMs),
      clientId: consentReplyClientId,
      // The reply belongs to the conversation the keyword arrived in.
      accountId,
      requestedAt: received.receivedAt,
      purpose: 'consent_reply',
    },
  };
  return { change, reply };
}

/** The email provider's unsubscribe callback: `address` opts out of email from `sender` (owned by `accountId`). */
export function decideEmailUnsubscribe(input: {
  accountId: string;
  sender: string;
  address: string;
  provider: string;
  providerEventId: string;
  changedAt: string;
}): ConsentChange {
  return {
    streamId: consentStreamId('email', input.sender, input.address),
    event: {
      id: consentEventId('ContactOptedOut', `${input.provider}\u0000${input.providerEventId}`),
      type: 'ContactOptedOut',
      data: {
        accountId: input.accountId,
        channel: 'email',
        sender: input.sender,
        address: input.address,
        source: 'unsubscribe',
        keyword: null,
        messageId: null,
        providerEventId: input.providerEventId,
        changedAt: input.changedAt,
      },
    },
  };
}
