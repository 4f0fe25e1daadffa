// A conversation is its participants: the normalised address set, order-independent, so A→B and B→A
// land in one conversation. The id derives from the key, so it is the same on every replay.
import { localAccountId } from '../accounts/local-account.ts';
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

/**
 * Whether a conversation is the account's: its id derives from the account and its participants (ids
 * from before accounts, `conversationIdFor`, are the local account's). Lets a read tell which account a
 * conversation row belongs to from the row alone.
 */
export const conversationBelongsTo = (accountId: string, conversationId: string, participants: readonly string[]) =>
  conversationId === accountConversationIdFor(accountId, participants) ||
  (accountId === localAccountId && conversationId === conversationIdFor(participants));
