// Receipts count only against a MessageSent that recorded their provider message id; early ones wait.
import { messageDelivered, messageRequested, messageSent } from '@hatch/testing/events';
import { describe, expect, it } from 'vitest';
import type { MessageEvent } from './events.ts';
import { messageStateFrom } from './message-state.ts';
import { emptyReceiptLedger, matchReceipts } from './receipt-matching.ts';

const messageId = '6f1c2a7e-0d7b-4a59-9a3e-1f2b3c4d5e6f';
const requested: MessageEvent = { type: 'MessageRequested', data: messageRequested({ messageId }) };
const sent = (providerMessageId: string, provider = 'twilio'): MessageEvent => ({
  type: 'MessageSent',
  data: messageSent(messageId, { providerMessageId, provider }),
});
const delivered = (providerMessageId: string): MessageEvent => ({
  type: 'MessageDelivered',
  data: messageDelivered(messageId, { providerMessageId }),
});
const undelivered = (providerMessageId: string): MessageEvent => ({
  type: 'MessageUndelivered',
  data: {
    messageId,
    provider: 'twilio',
    providerMessageId,
    reason: 'undelivered',
    errorCode: '30003',
    reportedAt: '2024-11-01T14:00:09.000Z',
  },
});

describe('receipt matching', () => {
  it('applies a receipt whose MessageSent is already in the stream', () => {
    expect(messageStateFrom([requested, sent('SM1'), delivered('SM1')])?.status).toBe('delivered');
  });

  it('holds a receipt that arrives before its MessageSent and applies it when that lands', () => {
    const early = messageStateFrom([requested, delivered('SM1')]);
    expect(early?.status).toBe('queued');
    expect(early?.receipts.held).toHaveLength(1);
    const later = messageStateFrom([requested, delivered('SM1'), sent('SM1')]);
    expect(later?.status).toBe('delivered');
    expect(later?.receipts.held).toEqual([]);
  });

  it('never lets a receipt for another send mark the message delivered', () => {
    expect(messageStateFrom([requested, delivered('SM-forged')])?.status).toBe('queued');
    expect(messageStateFrom([requested, delivered('SM-forged'), sent('SM1')])?.status).toBe('sent');
  });

  it('applies receipts for the backup provider after a failover to it', () => {
    const events = [requested, delivered('SM-backup'), sent('SM-backup', 'messaging-provider-backup')];
    expect(messageStateFrom(events)?.status).toBe('delivered');
  });

  it('never moves status backwards or sideways: the first terminal receipt stands', () => {
    expect(messageStateFrom([requested, sent('SM1'), delivered('SM1'), undelivered('SM1')])?.status).toBe('delivered');
    // Both held, released in log order by the MessageSent: the first one decides.
    expect(messageStateFrom([requested, undelivered('SM1'), delivered('SM1'), sent('SM1')])?.status).toBe(
      'undelivered',
    );
    expect(messageStateFrom([requested, sent('SM1'), delivered('SM1'), sent('SM1')])?.status).toBe('delivered');
  });

  it('releases exactly the receipts a MessageSent names, after it', () => {
    const held = matchReceipts(matchReceipts(emptyReceiptLedger(), delivered('A')).ledger, delivered('B')).ledger;
    const { ledger, effective } = matchReceipts(held, sent('A'));
    expect(effective.map((e) => e.type)).toEqual(['MessageSent', 'MessageDelivered']);
    expect(ledger.held.map((r) => r.data.providerMessageId)).toEqual(['B']);
    expect(ledger.sent).toEqual({ A: 'twilio' });
  });
});
