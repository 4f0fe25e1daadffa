import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { isMessageStatus, isTerminal, messageSchema, messageStatuses, statusRank } from './index.ts';

describe('vocabulary', () => {
  it('lists the statuses in the status machine order', () => {
    const ranks = messageStatuses.map((s) => statusRank[s]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(messageStatuses.filter(isTerminal)).toEqual(['delivered', 'undelivered', 'failed', 'cancelled']);
    expect(isMessageStatus('retry_scheduled')).toBe(false);
  });

  it('rejects a message whose status the machine does not know', () => {
    const unset = ['subject', 'replyTo', 'sendAt', 'cancelledAt', 'provider', 'providerMessageId', 'lastError'];
    const unsetToo = ['errorCode', 'timestamp', 'nextAttemptAt', 'sentAt', 'deliveredAt', 'undeliveredAt'];
    const message = {
      ...Object.fromEntries([...unset, ...unsetToo, 'failedAt', 'statusChangedAt'].map((k) => [k, null])),
      id: '0195f1f2-7c3a-7d40-9e2a-4c1d3a716440',
      conversationId: '0195f1f2-7c3a-7d40-9e2a-4c1d3a716441',
      direction: 'outbound',
      channel: 'sms',
      from: '+12016661234',
      to: '+18045551234',
      body: 'hi',
      attachments: [],
      cc: [],
      bcc: [],
      status: 'queued',
      attempts: 0,
      createdAt: '2026-12-01T10:00:00.000Z',
    };
    expect(z.safeParse(messageSchema, message).success).toBe(true);
    expect(z.safeParse(messageSchema, { ...message, status: 'lost' }).success).toBe(false);
  });
});
