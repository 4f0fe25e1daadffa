// The handler on the in-memory event log: metadata stamping, appends at the version read, a conflict
// decided again on what the other writer wrote, and the limits of that retry.
import {
  currentSchemaVersion,
  decideCancel,
  decideSend,
  messageEventId,
  messageFold,
  messageStreamId,
} from '@hatch/domain';
import { InMemoryEventStore, WrongExpectedVersionError } from '@hatch/event-store';
import { eventMetadata } from '@hatch/testing/events';
import { describe, expect, it } from 'vitest';
import { type CommandMetadata, handleCommand } from './handle-command.ts';

const messageId = '6f1c2a7e-0d7b-4a59-9a3e-1f2b3c4d5e6f';
const streamId = messageStreamId(messageId);
const at = (s: number) => new Date(Date.UTC(2024, 10, 1, 14, 0, s)).toISOString();
const metadata: CommandMetadata = { correlationId: 'req-1', causationId: null, actor: 'acme' };
const logged = eventMetadata({ correlationId: 'seed', actor: 'test' });

async function scheduledSend(store: InMemoryEventStore) {
  const send = decideSend({
    type: 'SendMessage',
    data: {
      messageId,
      clientId: 'acme',
      requestedAt: at(0),
      channel: 'sms',
      from: '+12016661234',
      to: '+18045551234',
      body: 'later',
      attachments: [],
      timestamp: at(0),
      sendAt: '2024-11-01T15:00:00.000Z',
    },
  });
  if (!send.ok) throw new Error('the fixture send is valid');
  await store.append(
    streamId,
    send.events.map((e) => ({ ...e, metadata: logged })),
    'no_stream',
  );
}
const dispatchStarted = {
  id: messageEventId(messageId, 'MessageDispatchStarted'),
  type: 'MessageDispatchStarted',
  data: { messageId, startedAt: at(5) },
  metadata: logged,
};
const cancel = {
  type: 'CancelMessage' as const,
  data: { messageId, clientId: 'acme', cancelledAt: at(6) },
};

describe('handleCommand', () => {
  it('appends at the version read, stamping one metadata on every event', async () => {
    const store = new InMemoryEventStore();
    await scheduledSend(store);
    const { decision, result } = await handleCommand(store, {
      streamId,
      fold: messageFold,
      decide: (state) => decideCancel(cancel, state),
      metadata: { ...metadata, idempotencyKey: 'k-1' },
    });
    expect(decision.ok).toBe(true);
    expect(result?.nextExpectedVersion).toBe(1);
    const [, cancelled] = await store.readStream(streamId);
    expect(cancelled?.type).toBe('MessageCancelled');
    expect(cancelled?.metadata).toEqual({
      correlationId: 'req-1',
      causationId: null,
      idempotencyKey: 'k-1',
      actor: 'acme',
      schemaVersion: currentSchemaVersion,
    });
  });

  it('decides again when another writer got there first, on what it wrote', async () => {
    const store = new InMemoryEventStore();
    await scheduledSend(store);
    let reads = 0;
    const { decision, result } = await handleCommand(store, {
      streamId,
      fold: messageFold,
      // The dispatcher takes the message between this command's read and its append.
      context: async () => {
        reads += 1;
        if (reads === 1) await store.append(streamId, [dispatchStarted], 0);
      },
      decide: (state) => decideCancel(cancel, state),
      metadata,
    });
    expect(reads).toBe(2);
    expect(decision).toEqual({ ok: false, reason: 'not_cancellable', status: 'queued' });
    expect(result).toBeNull();
    expect((await store.readStream(streamId)).map((e) => e.type)).toEqual([
      'MessageRequested',
      'MessageDispatchStarted',
    ]);
  });

  it('gives up after maxAttempts conflicts with the conflict itself', async () => {
    const store = new InMemoryEventStore();
    await scheduledSend(store);
    let n = 0;
    const racing = handleCommand(store, {
      streamId,
      fold: messageFold,
      // Every try loses to a new competing event.
      context: async () => {
        n += 1;
        await store.append(
          streamId,
          [
            {
              id: messageEventId(messageId, 'MessageRetryScheduled', String(n)),
              type: 'Noise',
              data: {},
              metadata: logged,
            },
          ],
          'any',
        );
      },
      decide: (state) => decideCancel(cancel, state),
      metadata,
      maxAttempts: 2,
    });
    await expect(racing).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(n).toBe(2);
  });

  it('writes nothing for a rejection, and reads nothing for a stream new by construction', async () => {
    const store = new InMemoryEventStore();
    const rejected = await handleCommand(store, {
      streamId,
      fold: messageFold,
      decide: (state) => decideCancel(cancel, state),
      metadata,
    });
    expect(rejected).toMatchObject({ decision: { ok: false, reason: 'not_found' }, result: null });
    expect(await store.readStream(streamId)).toEqual([]);

    await scheduledSend(store);
    const blind = handleCommand(store, {
      streamId,
      fold: messageFold,
      decide: (state) => {
        expect(state).toBeNull();
        return {
          ok: true as const,
          streamId,
          events: [{ id: 'e6b0b1a0-0000-4000-8000-000000000001', type: 'X', data: {} }],
        };
      },
      metadata,
      concurrency: 'no_stream',
    });
    await expect(blind).rejects.toBeInstanceOf(WrongExpectedVersionError);
  });
});
