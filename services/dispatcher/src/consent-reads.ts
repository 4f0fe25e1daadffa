// The dispatcher's consent check: every attempt reads its recipient's consent stream right before the
// provider call (consistent with the log, no projection lag). The reads that arrive together share one
// `readStreams` query (the event store's `batchedStreamReads`, the same batching the send path uses)
// instead of one round trip per message.
import type { ConsentCheck } from '@hatch/dispatch';
import { consentFamilyOf, consentStateFrom, consentStreamId } from '@hatch/domain';
import { batchedStreamReads, type EventStore } from '@hatch/event-store';

export function batchedConsentCheck(store: Pick<EventStore, 'readStreams'>): ConsentCheck {
  const read = batchedStreamReads(store);
  return async (request) => {
    if (request.purpose === 'consent_reply') return false;
    const events = await read(consentStreamId(consentFamilyOf(request.channel), request.from, request.to));
    return consentStateFrom(events).optedOut;
  };
}
