// Single-stream reads that arrive together share one `readStreams` query. Each read still sees every event
// committed before it was asked for: a caller only joins a query that has not been sent yet, so a consent
// change acknowledged before a send arrived binds that send. At tens of sends in flight this turns one
// round trip per read into a few per millisecond, and a small read pool no longer queues them one by one.
import type { EventStore, RecordedEvent } from './event-store.ts';

export interface BatchedStreamReadOptions {
  /** Batch queries in flight at once (leave room in the read pool for other readers). Default 2. */
  maxInFlight?: number;
  /** Streams per query. Default 500. */
  maxBatch?: number;
}

type Waiter = { resolve: (events: RecordedEvent[]) => void; reject: (error: unknown) => void };

export function batchedStreamReads(
  store: Pick<EventStore, 'readStreams'>,
  { maxInFlight = 2, maxBatch = 500 }: BatchedStreamReadOptions = {},
): (streamId: string) => Promise<RecordedEvent[]> {
  // Waiting reads by stream, in arrival order (a Map keeps insertion order).
  let waiting = new Map<string, Waiter[]>();
  let inFlight = 0;
  let scheduled = false;

  const send = (batch: Map<string, Waiter[]>) => {
    inFlight++;
    store
      .readStreams([...batch.keys()])
      .then(
        (byStream) => {
          for (const [stream, waiters] of batch) for (const w of waiters) w.resolve(byStream.get(stream) ?? []);
        },
        (error: unknown) => {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
        },
      )
      .finally(() => {
        inFlight--;
        pump();
      });
  };

  function pump() {
    while (inFlight < maxInFlight && waiting.size > 0) {
      if (waiting.size <= maxBatch) {
        const batch = waiting;
        waiting = new Map();
        send(batch);
        continue;
      }
      const batch = new Map<string, Waiter[]>();
      for (const [stream, waiters] of waiting) {
        if (batch.size === maxBatch) break;
        batch.set(stream, waiters);
        waiting.delete(stream);
      }
      send(batch);
    }
  }

  return (streamId) =>
    new Promise<RecordedEvent[]>((resolve, reject) => {
      const waiters = waiting.get(streamId);
      if (waiters) waiters.push({ resolve, reject });
      else waiting.set(streamId, [{ resolve, reject }]);
      if (scheduled) return;
      scheduled = true;
      // Whatever asks during this turn of the event loop joins the same query.
      setImmediate(() => {
        scheduled = false;
        pump();
      });
    });
}
