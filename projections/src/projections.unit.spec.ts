import { describe, expect, it } from 'vitest';
import { evolveConversation, messagePreview } from './conversations.ts';
import { messageEventRow } from './message-events.ts';
import { evolveMessage, type MessageRow } from './messages.ts';
import type { ProjectedEvent } from './projection.ts';
import { messageLifecycle } from './workload.ts';

/** Message i's events as the projections see them, positions in log order. */
const lifecycle = (i: number): ProjectedEvent[] =>
  messageLifecycle(i, { messages: 1, seed: 'unit' })
    .sort((a, b) => a.round - b.round)
    .map(({ append }, n) => ({
      eventId: append.event.id,
      position: `p${n}`,
      recordedAt: '2026-11-01T10:00:00.000Z',
      event: { type: append.event.type, data: append.event.data } as ProjectedEvent['event'],
    }));

const fold = (events: ProjectedEvent[]) =>
  events.reduce<MessageRow | null>((row, e) => evolveMessage(row, e), null) as MessageRow;

describe('messages projection', () => {
  it('holds a receipt that arrives before its message and applies it when its MessageSent lands', () => {
    const [receipt, requested, sent] = lifecycle(7) as [ProjectedEvent, ProjectedEvent, ProjectedEvent];
    const orphan = evolveMessage(null, receipt);
    // Recorded in the row's ledger, but no send named its provider message id yet: nothing delivered.
    expect(orphan).toMatchObject({ status: 'queued', conversation_id: null, body: null, delivered_at: null });
    expect(orphan.receipt_ledger.held).toHaveLength(1);
    const queued = evolveMessage(orphan, requested);
    expect(queued.status).toBe('queued');
    const full = evolveMessage(queued, sent);
    expect(full).toMatchObject({ status: 'delivered', direction: 'outbound', created_position: 'p0' });
    expect(full.delivered_at).not.toBeNull();
    expect(full.receipt_ledger.held).toEqual([]);
    expect(full.body).toContain('message 7');
  });

  it('never applies a receipt naming a provider message id no MessageSent recorded', () => {
    const [requested, sent, receipt] = lifecycle(8) as [ProjectedEvent, ProjectedEvent, ProjectedEvent];
    if (receipt.event.type !== 'MessageDelivered') throw new Error('setup');
    const forged = {
      ...receipt,
      event: { ...receipt.event, data: { ...receipt.event.data, providerMessageId: 'other' } },
    };
    const row = fold([requested, sent, forged as ProjectedEvent]);
    expect(row).toMatchObject({ status: 'sent', delivered_at: null });
  });

  it('never moves a status back on late or conflicting receipts', () => {
    expect(fold(lifecycle(8)).status).toBe('delivered');
    expect(fold(lifecycle(5))).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(fold(lifecycle(6))).toMatchObject({ status: 'failed', attempts: 3, last_error: 'all providers failed' });
  });

  it('is deterministic: the same events give the same row', () => {
    expect(fold(lifecycle(5))).toEqual(fold(lifecycle(5)));
    expect(lifecycle(5).map(messageEventRow)).toEqual(lifecycle(5).map(messageEventRow));
  });
});

describe('conversations projection', () => {
  it('keeps the latest activity even when an older message arrives later', () => {
    const [newer] = lifecycle(10) as [ProjectedEvent];
    const [older] = lifecycle(0) as [ProjectedEvent];
    if (newer.event.type !== 'MessageRequested' || older.event.type !== 'MessageRequested') throw new Error('setup');
    const row = evolveConversation(evolveConversation(null, newer.event, 'p1'), older.event, 'p2');
    expect(row.message_count).toBe(2);
    expect(row.last_message_id).toBe(newer.event.data.messageId);
    expect(row.first_message_at).toBe(older.event.data.requestedAt);
  });

  it('previews by code points and falls back to the subject', () => {
    expect(Array.from(messagePreview('🙂'.repeat(200), null))).toHaveLength(140);
    expect(messagePreview('  ', 'Hello')).toBe('Hello');
  });
});
