// The send path's consent check: read the (family, sender, contact) consent stream right before the
// append, so a send to a contact who opted out is refused with no MessageRequested in the log. (A STOP
// landing after this check is caught by the dispatcher's own check before the provider call.)
import { type Channel, consentFamilyOf, consentStateFrom, consentStreamId } from '@hatch/domain';
import { Problem } from '@hatch/http';
import type { DurableLog } from './durable-append.ts';

export async function refuseOptedOut(log: DurableLog, send: { channel: Channel; from: string; to: string }) {
  const family = consentFamilyOf(send.channel);
  const state = consentStateFrom(await log.readStream(consentStreamId(family, send.from, send.to)));
  if (!state.optedOut) return;
  throw new Problem(422, 'recipient-opted-out', 'Recipient opted out', {
    detail: `the recipient opted out of ${family === 'email' ? 'email' : 'SMS/MMS'} from ${send.from}${
      state.keyword ? ` (replied ${state.keyword})` : ''
    } at ${state.changedAt}; they must opt in again (e.g. reply START) before you can message them`,
    optedOutAt: state.changedAt,
    channel: family,
  });
}
