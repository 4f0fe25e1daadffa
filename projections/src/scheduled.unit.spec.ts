import { decideSend } from '@hatch/domain';
import { describe, expect, it } from 'vitest';
import { addressKey, type ContactsState, emptyContactsState, evolveContacts } from './contacts.ts';
import { evolveMessage, type MessageRow } from './messages.ts';
import type { ProjectedDomainEvent, ProjectedEvent } from './projection.ts';

const id = '0b0e1c8e-1a52-4d64-9b5c-2f1b0c3d4e5f';
const requested = (sendAt?: string): ProjectedEvent => {
  const d = decideSend({
    type: 'SendMessage',
    data: {
      channel: 'sms',
      from: '+12016661234',
      to: '+18045551234',
      body: 'later',
      attachments: [],
      timestamp: '2026-11-01T10:00:00Z',
      messageId: id,
      clientId: 'c',
      requestedAt: '2026-11-01T10:00:00.000Z',
      sendAt: sendAt ?? null,
    },
  });
  if (!d.ok) throw new Error(JSON.stringify(d));
  const e = d.events[0]!;
  return {
    eventId: e.id,
    position: 'p0',
    recordedAt: '2026-11-01T10:00:00.000Z',
    event: { type: e.type, data: e.data },
  };
};
const at = (position: string, event: ProjectedEvent['event']): ProjectedEvent => ({
  eventId: position,
  position,
  recordedAt: '2026-11-01T10:00:00.000Z',
  event,
});
const fold = (events: ProjectedEvent[]) =>
  events.reduce<MessageRow | null>((row, e) => evolveMessage(row, e), null) as MessageRow;

describe('scheduled sends in the messages projection', () => {
  it('is scheduled until dispatch starts, then queued and sent; or ends cancelled', () => {
    const scheduled = fold([requested('2026-11-02T10:00:00Z')]);
    expect(scheduled).toMatchObject({ status: 'scheduled', send_at: '2026-11-02T10:00:00.000Z' });
    const started = at('p1', {
      type: 'MessageDispatchStarted',
      data: { messageId: id, startedAt: '2026-11-02T10:00:00.100Z' },
    });
    const sent = at('p2', {
      type: 'MessageSent',
      data: { messageId: id, provider: 'p', providerMessageId: 'x', attempt: 1, sentAt: '2026-11-02T10:00:00.200Z' },
    });
    expect(fold([requested('2026-11-02T10:00:00Z'), started]).status).toBe('queued');
    expect(fold([requested('2026-11-02T10:00:00Z'), started, sent]).status).toBe('sent');
    const cancelled = at('p1', {
      type: 'MessageCancelled',
      data: { messageId: id, clientId: 'c', cancelledAt: '2026-11-01T11:00:00.000Z' },
    });
    expect(fold([requested('2026-11-02T10:00:00Z'), cancelled])).toMatchObject({
      status: 'cancelled',
      cancelled_at: '2026-11-01T11:00:00.000Z',
    });
    expect(fold([requested()]).status).toBe('queued');
  });
});

describe('contacts projection', () => {
  const run = (events: ProjectedDomainEvent['event'][], state: ContactsState = emptyContactsState()) => {
    events.forEach((event, i) => {
      evolveContacts(state, { eventId: `e${i}`, position: `p${i}`, recordedAt: '2026-11-01T10:00:00.000Z', event });
    });
    return state;
  };

  it('gives an explicit contact an address its implicit contact held, and merges keep addresses', () => {
    const first = requested().event;
    const a = '5a4b9d1c-0000-4000-8000-000000000001';
    const b = '5a4b9d1c-0000-4000-8000-000000000002';
    const state = run([
      first,
      {
        type: 'ContactCreated',
        data: {
          accountId: 'c',
          contactId: a,
          displayName: 'Ada',
          addresses: ['+18045551234'],
          createdAt: '2026-11-01T10:01:00Z',
        },
      },
      {
        type: 'ContactCreated',
        data: {
          accountId: 'c',
          contactId: b,
          displayName: 'Ada L.',
          addresses: ['ada@example.com'],
          createdAt: '2026-11-01T10:02:00Z',
        },
      },
      {
        type: 'ContactMerged',
        data: {
          accountId: 'c',
          contactId: b,
          into: a,
          addresses: ['ada@example.com'],
          mergedAt: '2026-11-01T10:03:00Z',
        },
      },
    ]);
    expect(state.addresses.get(addressKey('c', '+18045551234'))?.contact_id).toBe(a);
    expect(state.addresses.get(addressKey('c', 'ada@example.com'))?.contact_id).toBe(a);
    expect(state.contacts.get(b)?.merged_into).toBe(a);
    const implicit = [...state.contacts.values()].find((c) => c.origin === 'implicit');
    expect(implicit?.merged_into).toBe(a);
  });

  it("keeps accounts apart: another account's contact for the same address leaves this one's implicit contact alone", () => {
    const a = '5a4b9d1c-0000-4000-8000-000000000001';
    const state = run([
      requested().event,
      {
        type: 'ContactCreated',
        data: {
          accountId: 'other',
          contactId: a,
          displayName: 'Ada',
          addresses: ['+18045551234'],
          createdAt: '2026-11-01T10:01:00Z',
        },
      },
    ]);
    expect(state.addresses.get(addressKey('other', '+18045551234'))?.contact_id).toBe(a);
    const implicit = state.addresses.get(addressKey('c', '+18045551234'));
    expect(implicit?.contact_id).not.toBe(a);
    expect(state.contacts.get(implicit?.contact_id ?? '')).toMatchObject({
      account_id: 'c',
      origin: 'implicit',
      merged_into: null,
    });
  });
});
