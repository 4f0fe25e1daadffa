// A conversation is its participants: the normalised address set, order-independent, so A→B and B→A
// land in one conversation. The id derives from the key, so it is the same on every replay.
import { deterministicUuid } from '../ids.ts';

/** Participants must already be normalised (E.164 / lower-cased email). */
export function conversationKey(participants: readonly string[]): string {
  if (participants.length === 0) throw new RangeError('a conversation needs at least one participant');
  return [...new Set(participants)].sort().join('\n');
}

export const conversationIdOf = (key: string) => deterministicUuid('hatch.conversation', key);

export const conversationIdFor = (participants: readonly string[]) => conversationIdOf(conversationKey(participants));

/**
 * A conversation within one account: the same participants writing to two customers make two
 * conversations, neither derivable from the other without the account id. Not yet used by the callers.
 */
export const accountConversationIdFor = (accountId: string, participants: readonly string[]) =>
  deterministicUuid('hatch.account-conversation', accountId, conversationKey(participants));
