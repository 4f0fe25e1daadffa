import { describe, expect, it } from 'vitest';
import { localAccountId } from '../accounts/local-account.ts';
import { decideInboundKeyword } from '../consent/keyword-decisions.ts';
import { accountConversationIdFor } from '../conversations/conversation-key.ts';
import { inboundMessageId, messageEventId } from '../ids.ts';
import { channelLimits } from './channel-rules.ts';
import { decideDeliveryReceipt, decideReceive, decideSend, type SendMessage } from './commands.ts';
import { messageAccountOf, parseMessageEvent } from './events.ts';
import { messageStateFrom } from './message-state.ts';
import { requestFingerprint } from './request-fingerprint.ts';

const messageId = '6f1c2a7e-0d7b-4a59-9a3e-1f2b3c4d5e6f';
const at = '2024-11-01T14:00:05.000Z';
const sms = (over: Partial<SendMessage['data']> = {}): SendMessage => ({
  type: 'SendMessage',
  data: {
    messageId,
    clientId: 'acme',
    requestedAt: at,
    channel: 'sms',
    from: '+1 (201) 666-1234',
    to: '+18045551234',
    body: 'hello',
    attachments: [],
    timestamp: '2024-11-01T14:00:00Z',
    ...over,
  },
});

describe('decideSend', () => {
  it('normalises addresses, derives the conversation and counts segments', () => {
    const decision = decideSend(sms({ body: 'a'.repeat(161), requestHash: 'h1' }));
    if (!decision.ok) throw new Error('expected ok');
    expect(decision.streamId).toBe(`message-${messageId}`);
    const [event] = decision.events;
    expect(event?.id).toBe(messageEventId(messageId, 'MessageRequested'));
    expect(event?.data).toMatchObject({
      from: '+12016661234',
      to: '+18045551234',
      accountId: 'acme',
      conversationId: accountConversationIdFor('acme', ['+18045551234', '+12016661234']),
      segments: 2,
      requestHash: 'h1',
      clientId: 'acme',
    });
    expect(parseMessageEvent('MessageRequested', event?.data).type).toBe('MessageRequested');
    // Deterministic: the same command decides the same event.
    expect(decideSend(sms({ body: 'a'.repeat(161), requestHash: 'h1' }))).toEqual(decision);
  });

  it('gives A→B and B→A one conversation', () => {
    const ab = decideSend(sms());
    const ba = decideSend(sms({ from: '+18045551234', to: '+12016661234' }));
    if (!ab.ok || !ba.ok) throw new Error('expected ok');
    expect(ab.events[0]?.data.conversationId).toBe(ba.events[0]?.data.conversationId);
  });

  it('gives one contact writing to two accounts two conversations', () => {
    const acme = decideSend(sms());
    const globex = decideSend(sms({ clientId: 'globex' }));
    if (!acme.ok || !globex.ok) throw new Error('expected ok');
    expect(acme.events[0]?.data.conversationId).not.toBe(globex.events[0]?.data.conversationId);
    expect(globex.events[0]?.data.accountId).toBe('globex');
  });

  it('reads a v1 event without an account as the local account', () => {
    const decision = decideSend(sms());
    if (!decision.ok) throw new Error('expected ok');
    const { accountId: _, ...v1 } = decision.events[0]?.data ?? {};
    const parsed = parseMessageEvent('MessageRequested', v1);
    expect(messageAccountOf(parsed.data as { accountId?: string })).toBe(localAccountId);
  });

  it('sends a keyword reply in the conversation the keyword arrived in', () => {
    const stop = decideReceive({
      type: 'ReceiveMessage',
      data: {
        channel: 'sms',
        from: '+18045551234',
        to: '+12016661234',
        body: 'STOP',
        attachments: [],
        timestamp: at,
        provider: 'messaging-provider',
        providerMessageId: 'stop-1',
        receivedAt: at,
        accountId: 'acme',
      },
    });
    if (!stop.ok) throw new Error('expected ok');
    const inbound = stop.events[0]?.data;
    const reply = inbound && decideInboundKeyword(inbound)?.reply;
    const decided = reply && decideSend(reply);
    if (!decided?.ok) throw new Error('expected a reply');
    expect(decided.events[0]?.data.conversationId).toBe(inbound?.conversationId);
  });

  it('names every invalid field', () => {
    const decision = decideSend(sms({ from: '+123', to: 'x', body: '', attachments: ['https://a/b.png'] }));
    expect(decision.ok).toBe(false);
    if (decision.ok || decision.reason !== 'invalid') return;
    expect(decision.errors.map((e) => e.field).sort()).toEqual(['attachments', 'body', 'from', 'to']);
  });

  it('applies the channel rules: sms length, mms attachments, email-only fields', () => {
    expect(decideSend(sms({ body: 'x'.repeat(channelLimits.smsBodyMaxChars) })).ok).toBe(true);
    expect(decideSend(sms({ body: 'x'.repeat(channelLimits.smsBodyMaxChars + 1) })).ok).toBe(false);
    const media = (n: number) => Array.from({ length: n }, (_, i) => `https://cdn.example.com/${i}.jpg`);
    expect(decideSend(sms({ channel: 'mms', body: '', attachments: media(10) })).ok).toBe(true);
    expect(decideSend(sms({ channel: 'mms', attachments: media(11) })).ok).toBe(false);
    expect(decideSend(sms({ channel: 'mms', body: '' })).ok).toBe(false);
    expect(decideSend(sms({ subject: 'hi' })).ok).toBe(false);
  });

  it('lower-cases and unwraps emails, including cc/bcc/reply-to', () => {
    const decision = decideSend(
      sms({
        channel: 'email',
        from: '[User@UseHatchApp.com](mailto:User@UseHatchApp.com)',
        to: 'Contact@Gmail.com',
        body: '<html><b>hi</b></html>',
        subject: 'Hello',
        cc: ['CC@x.org'],
        bcc: [],
        replyTo: 'Reply@UseHatchApp.com',
      }),
    );
    if (!decision.ok) throw new Error(JSON.stringify(decision));
    expect(decision.events[0]?.data).toMatchObject({
      from: 'user@usehatchapp.com',
      to: 'contact@gmail.com',
      cc: ['cc@x.org'],
      replyTo: 'reply@usehatchapp.com',
      subject: 'Hello',
      segments: 1,
    });
    const bad = decideSend(sms({ channel: 'email', from: 'a@b.com', to: 'nope', cc: ['also-bad'], body: 'x' }));
    expect(!bad.ok && bad.reason === 'invalid' && bad.errors.map((e) => e.field)).toEqual(['to', 'cc.0']);
  });
});

describe('decideReceive', () => {
  it('derives the message id from the provider id, so a re-delivery decides the same event', () => {
    const command = {
      type: 'ReceiveMessage' as const,
      data: {
        channel: 'sms' as const,
        from: '+18045551234',
        to: '+12016661234',
        body: 'reply',
        attachments: [],
        timestamp: '2024-11-01T14:00:00Z',
        provider: 'messaging-provider',
        providerMessageId: 'message-1',
        accountId: localAccountId,
        receivedAt: at,
      },
    };
    const first = decideReceive(command);
    if (!first.ok) throw new Error('expected ok');
    expect(first.messageId).toBe(inboundMessageId('messaging-provider', 'message-1'));
    expect(decideReceive(command)).toEqual(first);
    expect(parseMessageEvent('MessageReceived', first.events[0]?.data).type).toBe('MessageReceived');
  });
});

describe('decideDeliveryReceipt', () => {
  const sent = decideSend(sms());
  if (!sent.ok) throw new Error('expected ok');
  const history = [
    parseMessageEvent('MessageRequested', sent.events[0]?.data),
    parseMessageEvent('MessageSent', {
      messageId,
      provider: 'messaging-provider-backup',
      providerMessageId: 'pm-9',
      attempt: 2,
      sentAt: at,
    }),
  ];
  const receipt = (outcome: 'delivered' | 'undelivered', providerStatus: string) => ({
    type: 'RecordDeliveryReceipt' as const,
    data: {
      messageId,
      provider: 'messaging-provider',
      providerMessageId: 'pm-9',
      outcome,
      providerStatus,
      reason: null,
      errorCode: outcome === 'undelivered' ? '30003' : null,
      reportedAt: at,
    },
  });

  it('records delivery against the provider that sent it, with a deterministic id', () => {
    const decision = decideDeliveryReceipt(receipt('delivered', 'delivered'), messageStateFrom(history));
    if (!decision.ok) throw new Error('expected ok');
    expect(decision.events[0]).toMatchObject({
      type: 'MessageDelivered',
      data: { provider: 'messaging-provider-backup' },
    });
    expect(decideDeliveryReceipt(receipt('delivered', 'delivered'), messageStateFrom(history))).toEqual(decision);
  });

  it('records undelivered and failed receipts as MessageUndelivered with distinct ids', () => {
    const undelivered = decideDeliveryReceipt(receipt('undelivered', 'undelivered'), messageStateFrom(history));
    const failed = decideDeliveryReceipt(receipt('undelivered', 'failed'), messageStateFrom(history));
    if (!undelivered.ok || !failed.ok) throw new Error('expected ok');
    expect(undelivered.events[0]).toMatchObject({ type: 'MessageUndelivered', data: { errorCode: '30003' } });
    expect(undelivered.events[0]?.id).not.toBe(failed.events[0]?.id);
  });

  it('refuses a receipt for a message it does not know', () => {
    expect(decideDeliveryReceipt(receipt('delivered', 'delivered'), null)).toMatchObject({
      ok: false,
      reason: 'not_found',
    });
  });
});

describe('requestFingerprint', () => {
  it('ignores key order and tells different bodies apart', () => {
    expect(requestFingerprint({ a: 1, b: [1, { c: 2, d: null }] })).toBe(
      requestFingerprint({ b: [1, { d: null, c: 2 }], a: 1 }),
    );
    expect(requestFingerprint({ a: 1 })).not.toBe(requestFingerprint({ a: 2 }));
  });
});
