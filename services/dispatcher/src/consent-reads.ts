// The dispatcher's consent check, batched: every attempt reads its recipient's consent stream right before
// the provider call (consistent with the log, no projection lag), and the checks that arrive together are
// answered by ONE batched stream read (`readStreams`) instead of one stream read each — at hundreds of
// attempts in flight that is the difference between a round trip per message and a handful per second.
import type { ConsentCheck } from '@hatch/dispatch';
import { consentFamilyOf, consentStateFrom, consentStreamId } from '@hatch/domain';
import type { EventStore } from '@hatch/event-store';

type Waiter = { resolve: (events: { type: string; data: unknown }[]) => void; reject: (error: unknown) => void };

export function batchedConsentCheck(store: Pick<EventStore, 'readStreams'>): ConsentCheck {
  let pending: Map<string, Waiter[]> | null = null;

  const flush = async (batch: Map<string, Waiter[]>) => {
    try {
      const byStream = await store.readStreams([...batch.keys()]);
      for (const [stream, waiters] of batch) for (const w of waiters) w.resolve(byStream.get(stream) ?? []);
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  };

  const read = (stream: string) =>
    new Promise<{ type: string; data: unknown }[]>((resolve, reject) => {
      if (!pending) {
        pending = new Map();
        // Whatever asks during this turn of the event loop joins the same query.
        setImmediate(() => {
          const batch = pending as Map<string, Waiter[]>;
          pending = null;
          void flush(batch);
        });
      }
      const waiters = pending.get(stream) ?? [];
      waiters.push({ resolve, reject });
      pending.set(stream, waiters);
    });

  return async (request) => {
    if (request.purpose === 'consent_reply') return false;
    const events = await read(consentStreamId(consentFamilyOf(request.channel), request.from, request.to));
    return consentStateFrom(events).optedOut;
  };
}
