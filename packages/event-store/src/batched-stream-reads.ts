// Single-stream reads that arrive together share one `readStreams` query. Each read still sees every event
// committed before it was asked for: a caller only joins a query that has not been sent yet, so a consent
// change acknowledged before a send arrived binds that send. At tens of sends in flight this turns one
// round trip per read into a few per millisecond, and a small read pool no longer queues them one by one.
import { batchPerTurn } from '@hatch/platform';
import type { EventStore, RecordedEvent } from './event-store.ts';

export interface BatchedStreamReadOptions {
  /** Batch queries in flight at once (leave room in the read pool for other readers). Default 2. */
  maxInFlight?: number;
  /** Streams per query. Default 500. */
  maxBatch?: number;
}

export function batchedStreamReads(
  store: Pick<EventStore, 'readStreams'>,
  { maxInFlight = 2, maxBatch = 500 }: BatchedStreamReadOptions = {},
): (streamId: string) => Promise<RecordedEvent[]> {
  return batchPerTurn<string, RecordedEvent[]>({
    run: async (streamIds) => {
      const byStream = await store.readStreams(streamIds);
      return (streamId) => byStream.get(streamId) ?? [];
    },
    key: (streamId) => streamId,
    // Two reads of one stream asked in the same turn get the same answer from one query.
    sameKey: 'share',
    maxInFlight,
    maxBatch,
  });
}
