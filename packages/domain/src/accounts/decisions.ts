// Account commands and the pure decisions that turn them into events. Every id (account, key) and every
// time comes in with the command, and a key arrives already hashed: no clock, no randomness in here.
//
// Owning a sender spans two streams. Adding: first `decideClaimSender` on `sender-<s>` (appended at the
// claim stream's version: of two accounts racing for one number, one loses the append), then
// `decideAddSender` on the account. Removing: `decideRemoveSender` first, then `decideReleaseSender`.
// A claim whose `SenderAdded` never landed (a crash between the appends) is completed by retrying the add:
// the claim already names the account, so it decides nothing new.
import type { FieldError } from '../messages/channel-rules.ts';
import type { AccountState, SenderClaimState } from './account-state.ts';
import {
  type AccountEvent,
  type AccountEventOf,
  accountEventId,
  accountStreamId,
  apiKeyHashSchema,
  apiKeyPrefixSchema,
  type SenderClaimEvent,
  senderStreamId,
} from './events.ts';
import { normaliseSender } from './senders.ts';

export interface CreateAccount {
  type: 'CreateAccount';
  data: { accountId: string; name: string; createdAt: string };
}
export interface AddSender {
  type: 'AddSender';
  data: { accountId: string; sender: string; addedAt: string };
}
export interface RemoveSender {
  type: 'RemoveSender';
  data: { accountId: string; sender: string; removedAt: string };
}
export interface IssueApiKey {
  type: 'IssueApiKey';
  /** `keyHash` and `prefix` from `generateApiKey`; the key itself never reaches the log. */
  data: { accountId: string; keyId: string; name: string; keyHash: string; prefix: string; issuedAt: string };
}
export interface RevokeApiKey {
  type: 'RevokeApiKey';
  data: { accountId: string; keyId: string; revokedAt: string };
}
export interface ClaimSender {
  type: 'ClaimSender';
  data: { accountId: string; sender: string; claimedAt: string };
}
export interface ReleaseSender {
  type: 'ReleaseSender';
  data: { accountId: string; sender: string; releasedAt: string };
}

/** An event to append, with its deterministic id (metadata is added by the caller). */
export type Decided<E> = E & { id: string };

/**
 * `events` may be empty: the command is already true (an owned sender added again, a revoked key revoked
 * again) and nothing needs appending. `expectedVersion` is the stream version decided on (-1: no stream).
 */
export type AccountDecision<E> =
  | { ok: true; streamId: string; expectedVersion: number; events: Decided<E>[] }
  | { ok: false; reason: 'invalid'; errors: FieldError[] }
  | { ok: false; reason: 'not_found'; detail: string }
  | { ok: false; reason: 'already_exists'; detail: string }
  /** The sender belongs to another account (`ownedBy`: for operators only; a customer must never see it). */
  | { ok: false; reason: 'sender_taken'; detail: string; sender: string; ownedBy: string };

const nameMax = 100;

function checkName(field: string, name: string): FieldError[] {
  const trimmed = name.trim();
  if (trimmed.length === 0) return [{ field, message: 'must not be empty' }];
  if (trimmed.length > nameMax) return [{ field, message: `must be at most ${nameMax} characters` }];
  return [];
}

function decided<E extends { type: string }>(streamId: string, version: number, events: E[]) {
  return {
    ok: true as const,
    streamId,
    expectedVersion: version,
    events: events.map((event, i) => ({ ...event, id: accountEventId(streamId, version + 1 + i, event.type) })),
  };
}

const noAccount = (accountId: string) => ({
  ok: false as const,
  reason: 'not_found' as const,
  detail: `no account ${accountId}`,
});

function normalisedSender(raw: string) {
  const result = normaliseSender(raw);
  if (result.ok) return result;
  return {
    ok: false as const,
    reason: 'invalid' as const,
    errors: [{ field: 'sender', message: `${raw} ${result.message}` }],
  };
}

export function decideCreateAccount(
  command: CreateAccount,
  state: AccountState | null,
): AccountDecision<AccountEventOf<'AccountCreated'>> {
  const { accountId, name, createdAt } = command.data;
  if (state) return { ok: false, reason: 'already_exists', detail: `account ${accountId} already exists` };
  const errors = checkName('name', name);
  if (errors.length > 0) return { ok: false, reason: 'invalid', errors };
  return decided(accountStreamId(accountId), -1, [
    { type: 'AccountCreated' as const, data: { accountId, name: name.trim(), createdAt } },
  ]);
}

/** Call after the claim landed (see the top of this file). */
export function decideAddSender(
  command: AddSender,
  state: AccountState | null,
): AccountDecision<AccountEventOf<'SenderAdded'>> {
  const { accountId, addedAt } = command.data;
  if (!state) return noAccount(accountId);
  const sender = normalisedSender(command.data.sender);
  if (!sender.ok) return sender;
  const streamId = accountStreamId(accountId);
  if (state.senders[sender.value]) return decided(streamId, state.version, []);
  return decided(streamId, state.version, [
    { type: 'SenderAdded' as const, data: { accountId, sender: sender.value, kind: sender.kind, addedAt } },
  ]);
}

export function decideRemoveSender(
  command: RemoveSender,
  state: AccountState | null,
): AccountDecision<AccountEventOf<'SenderRemoved'>> {
  const { accountId, removedAt } = command.data;
  if (!state) return noAccount(accountId);
  const sender = normalisedSender(command.data.sender);
  if (!sender.ok) return sender;
  const kind = state.senders[sender.value];
  if (!kind) return { ok: false, reason: 'not_found', detail: `account ${accountId} does not own ${sender.value}` };
  return decided(accountStreamId(accountId), state.version, [
    { type: 'SenderRemoved' as const, data: { accountId, sender: sender.value, kind, removedAt } },
  ]);
}

export function decideIssueApiKey(
  command: IssueApiKey,
  state: AccountState | null,
): AccountDecision<AccountEventOf<'ApiKeyIssued'>> {
  const { accountId, keyId, name, keyHash, prefix, issuedAt } = command.data;
  if (!state) return noAccount(accountId);
  if (state.apiKeys[keyId]) return { ok: false, reason: 'already_exists', detail: `key ${keyId} already exists` };
  const errors = checkName('name', name);
  if (!apiKeyHashSchema.safeParse(keyHash).success)
    errors.push({ field: 'keyHash', message: 'must be the SHA-256 of the key in lower-case hex' });
  if (!apiKeyPrefixSchema.safeParse(prefix).success) errors.push({ field: 'prefix', message: 'is not a key prefix' });
  if (errors.length > 0) return { ok: false, reason: 'invalid', errors };
  return decided(accountStreamId(accountId), state.version, [
    { type: 'ApiKeyIssued' as const, data: { accountId, keyId, name: name.trim(), keyHash, prefix, issuedAt } },
  ]);
}

export function decideRevokeApiKey(
  command: RevokeApiKey,
  state: AccountState | null,
): AccountDecision<AccountEventOf<'ApiKeyRevoked'>> {
  const { accountId, keyId, revokedAt } = command.data;
  if (!state) return noAccount(accountId);
  const key = state.apiKeys[keyId];
  if (!key) return { ok: false, reason: 'not_found', detail: `account ${accountId} has no key ${keyId}` };
  const streamId = accountStreamId(accountId);
  if (key.revokedAt) return decided(streamId, state.version, []);
  return decided(streamId, state.version, [{ type: 'ApiKeyRevoked' as const, data: { accountId, keyId, revokedAt } }]);
}

/** `claim` is the state of `sender-<normalised sender>` (`senderClaimFrom`; `initialSenderClaim` when empty). */
export function decideClaimSender(
  command: ClaimSender,
  claim: SenderClaimState,
): AccountDecision<Extract<SenderClaimEvent, { type: 'SenderClaimed' }>> {
  const { accountId, claimedAt } = command.data;
  const sender = normalisedSender(command.data.sender);
  if (!sender.ok) return sender;
  const streamId = senderStreamId(sender.value);
  if (claim.accountId === accountId) return decided(streamId, claim.version, []);
  if (claim.accountId !== null)
    return {
      ok: false,
      reason: 'sender_taken',
      detail: `${sender.value} belongs to another account`,
      sender: sender.value,
      ownedBy: claim.accountId,
    };
  return decided(streamId, claim.version, [
    { type: 'SenderClaimed' as const, data: { sender: sender.value, accountId, claimedAt } },
  ]);
}

export function decideReleaseSender(
  command: ReleaseSender,
  claim: SenderClaimState,
): AccountDecision<Extract<SenderClaimEvent, { type: 'SenderReleased' }>> {
  const { accountId, releasedAt } = command.data;
  const sender = normalisedSender(command.data.sender);
  if (!sender.ok) return sender;
  const streamId = senderStreamId(sender.value);
  // Already released (or never ours): nothing to undo, and another owner's claim is not ours to drop.
  if (claim.accountId !== accountId) return decided(streamId, claim.version, []);
  return decided(streamId, claim.version, [
    { type: 'SenderReleased' as const, data: { sender: sender.value, accountId, releasedAt } },
  ]);
}

/** Every account decision's events, as one type (for callers that append any of them). */
export type AccountDecidedEvent = Decided<AccountEvent | SenderClaimEvent>;
