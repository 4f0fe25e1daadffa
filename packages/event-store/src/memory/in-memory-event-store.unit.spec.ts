import { describe, expect, it } from 'vitest';
import { describeEventStoreContract, testEvent } from '../contract/event-store.contract.ts';
import { InMemoryEventStore } from './in-memory-event-store.ts';

describeEventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore();
  return { store, close: () => store.close() };
});

describe('in-memory adapter specifics', () => {
  it('hands back copies: mutating a read or an appended event never changes the log', async () => {
    const store = new InMemoryEventStore();
    const event = testEvent('Copied', { list: [1] });
    await store.append('copy-1', [event]);
    (event.data as { list: number[] }).list.push(2);
    const [read] = await store.readStream('copy-1');
    (read?.data as { list: number[] } | undefined)?.list.push(3);
    expect((await store.readStream('copy-1'))[0]?.data).toEqual({ list: [1] });
    await store.close();
  });

  it('stops a subscription whose handler throws and rejects its done', async () => {
    const store = new InMemoryEventStore();
    const sub = store.subscribe({
      handler: async () => {
        throw new Error('handler failed');
      },
    });
    await store.append('fail-1', [testEvent()]);
    await expect(sub.done).rejects.toThrow('handler failed');
    await store.close();
  });

  it('stamps recordedAt from the given clock', async () => {
    const store = new InMemoryEventStore({ now: () => new Date('2026-01-02T03:04:05.000Z') });
    await store.append('clock-1', [testEvent()]);
    expect((await store.readStream('clock-1'))[0]?.recordedAt).toBe('2026-01-02T03:04:05.000Z');
    await store.close();
  });
});
