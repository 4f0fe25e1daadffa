import type { RecordedEvent } from '@hatch/event-store';
import { describe, expect, it } from 'vitest';
import { scheduleChanges } from './dispatch-schedule.ts';

const at = (iso: string) => Date.parse(iso);
let position = 0;
const recorded = (messageId: string, streamVersion: number, type: string, data: Record<string, unknown>) =>
  ({
    id: `e${position}`,
    type,
    data: { messageId, ...data },
    metadata: { correlationId: 'c', causationId: null, actor: 'test', schemaVersion: 1 },
    streamId: `message-${messageId}`,
    streamVersion,
    position: String(position++).padStart(8, '0'),
    recordedAt: '2026-11-25T10:00:00.000Z',
  }) as RecordedEvent;

describe('schedule changes from the log', () => {
  it('keeps the last word per message: due on request or retry, done on an outcome; a receipt changes nothing', () => {
    const changes = scheduleChanges([
      recorded('a', 0, 'MessageRequested', { requestedAt: '2026-11-25T10:00:00.000Z' }),
      recorded('b', 0, 'MessageRequested', { requestedAt: '2026-11-25T10:00:01.000Z' }),
      recorded('a', 1, 'MessageRetryScheduled', { dueAt: '2026-11-25T10:05:00.000Z' }),
      recorded('b', 1, 'MessageSent', {}),
      recorded('c', 3, 'MessageDelivered', {}),
      recorded('d', 0, 'MessageReceived', {}),
    ]);
    expect(changes).toEqual([
      { kind: 'due', messageId: 'a', streamVersion: 1, dueAtMs: at('2026-11-25T10:05:00.000Z') },
      { kind: 'done', messageId: 'b', streamVersion: 1 },
    ]);
  });

  it('marks a fresh request (its stream is just that event) so it can be dispatched without a read', () => {
    const request = recorded('e', 0, 'MessageRequested', { requestedAt: '2026-11-25T10:00:00.000Z' });
    const [change] = scheduleChanges([request]);
    expect(change).toMatchObject({ kind: 'due', messageId: 'e', request });
  });
});
