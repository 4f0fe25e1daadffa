// The dispatcher's consent check: every attempt reads its recipient's consent stream right before the
// provider call (consistent with the log, no projection lag). The reads that arrive together share one
// `readStreams` query (the caller passes the event store's `batchedStreamReads`, the same batching the send
// path uses, and the one the attempts' own message reads go through) instead of one round trip per message.
import type { ConsentCheck } from '@hatch/dispatch';
import { consentFamilyOf, consentStateFrom, consentStreamId } from '@hatch/domain';
import type { RecordedEvent } from '@hatch/event-store';

export function batchedConsentCheck(read: (streamId: string) => Promise<RecordedEvent[]>): ConsentCheck {
  return async (request) => {
    if (request.purpose === 'consent_reply') return false;
    const events = await read(consentStreamId(consentFamilyOf(request.channel), request.from, request.to));
    return consentStateFrom(events).optedOut;
  };
}
