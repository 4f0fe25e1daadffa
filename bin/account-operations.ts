// What `bin/hatch` does to accounts: pure account decisions carried out by the one command handler (read,
// fold, decide, append at the version read, decide again on a conflict), like every route's command.
import { randomUUID } from 'node:crypto';
import { handleCommand } from '@hatch/commands';
import {
  type AccountDecision,
  type AccountState,
  accountEventSchemaVersion,
  accountFold,
  accountStateFrom,
  accountStreamId,
  decideAddSender,
  decideClaimSender,
  decideCreateAccount,
  decideIssueApiKey,
  decideReleaseSender,
  decideRemoveSender,
  decideRevokeApiKey,
  type Fold,
  generateApiKey,
  normaliseSender,
  type PendingEvent,
  type RandomBytes,
  type SenderClaimState,
  senderClaimFold,
  senderClaimFrom,
  senderStreamId,
} from '@hatch/domain';
import type { EventStore, RecordedEvent } from '@hatch/event-store';

export type Refusal = Extract<AccountDecision<never>, { ok: false }>;
export type Outcome<T> = { ok: true; value: T } | Refusal;

export interface OperationDeps {
  store: EventStore;
  now: () => Date;
  newId: () => string;
  random: RandomBytes;
  /** Who acts, for the events' metadata (e.g. `operator:alice`). */
  actor: string;
}

const invalidSender = (raw: string, message: string): Refusal => ({
  ok: false,
  reason: 'invalid',
  errors: [{ field: 'sender', message: `${raw} ${message}` }],
});

export function accountOperations(deps: OperationDeps) {
  const { store } = deps;
  const at = () => deps.now().toISOString();
  const correlationId = randomUUID();

  const metadata = { correlationId, causationId: null, actor: deps.actor, schemaVersion: accountEventSchemaVersion };

  /** Through the one command handler: read, fold, decide, append at the version read, retry a conflict. */
  async function run<S, Ev, E extends PendingEvent>(
    streamId: string,
    fold: Fold<S, Ev>,
    decide: (state: S) => AccountDecision<E>,
  ): Promise<AccountDecision<E>> {
    return (await handleCommand(store, { streamId, fold, decide, metadata })).decision;
  }

  const onAccount = <E extends PendingEvent>(
    accountId: string,
    decide: (state: AccountState | null) => AccountDecision<E>,
  ) => run(accountStreamId(accountId), accountFold, decide);

  const onClaim = <E extends PendingEvent>(sender: string, decide: (claim: SenderClaimState) => AccountDecision<E>) =>
    run(senderStreamId(sender), senderClaimFold(sender), decide);

  async function loadAccount(accountId: string) {
    return accountStateFrom(await store.readStream(accountStreamId(accountId)));
  }

  /** Claim on the sender's own stream first (the race is decided there), then record it on the account. */
  async function addSender(accountId: string, raw: string): Promise<Outcome<{ sender: string; added: boolean }>> {
    const sender = normaliseSender(raw);
    if (!sender.ok) return invalidSender(raw, sender.message);
    if (!(await loadAccount(accountId))) return { ok: false, reason: 'not_found', detail: `no account ${accountId}` };
    const claimedAt = at();
    const claim = await onClaim(sender.value, (c) =>
      decideClaimSender({ type: 'ClaimSender', data: { accountId, sender: sender.value, claimedAt } }, c),
    );
    if (!claim.ok) return claim;
    const added = await onAccount(accountId, (s) =>
      decideAddSender({ type: 'AddSender', data: { accountId, sender: sender.value, addedAt: claimedAt } }, s),
    );
    if (!added.ok) return added;
    return { ok: true, value: { sender: sender.value, added: added.events.length > 0 } };
  }

  /** The account lets go first, then the claim, so the sender is never claimable while still owned. */
  async function removeSender(accountId: string, raw: string): Promise<Outcome<{ sender: string }>> {
    const sender = normaliseSender(raw);
    if (!sender.ok) return invalidSender(raw, sender.message);
    const removedAt = at();
    const removed = await onAccount(accountId, (s) =>
      decideRemoveSender({ type: 'RemoveSender', data: { accountId, sender: sender.value, removedAt } }, s),
    );
    if (!removed.ok) return removed;
    const released = await onClaim(sender.value, (c) =>
      decideReleaseSender(
        { type: 'ReleaseSender', data: { accountId, sender: sender.value, releasedAt: removedAt } },
        c,
      ),
    );
    if (!released.ok) return released;
    return { ok: true, value: { sender: sender.value } };
  }

  async function issueKey(
    accountId: string,
    name: string,
  ): Promise<Outcome<{ keyId: string; apiKey: string; prefix: string }>> {
    const keyId = deps.newId();
    const { key, keyHash, prefix } = generateApiKey(deps.random);
    const issuedAt = at();
    const issued = await onAccount(accountId, (s) =>
      decideIssueApiKey({ type: 'IssueApiKey', data: { accountId, keyId, name, keyHash, prefix, issuedAt } }, s),
    );
    if (!issued.ok) return issued;
    return { ok: true, value: { keyId, apiKey: key, prefix } };
  }

  async function revokeKey(accountId: string, keyId: string): Promise<Outcome<{ revoked: boolean }>> {
    const revokedAt = at();
    const revoked = await onAccount(accountId, (s) =>
      decideRevokeApiKey({ type: 'RevokeApiKey', data: { accountId, keyId, revokedAt } }, s),
    );
    if (!revoked.ok) return revoked;
    return { ok: true, value: { revoked: revoked.events.length > 0 } };
  }

  /**
   * A new account with its senders and a first key named `default`. Senders are checked (shape and
   * availability) before anything is appended, so a typo or a taken number creates no half account; a
   * claim lost to a concurrent operator after that is reported with the account that was created.
   */
  async function createAccount(
    name: string,
    rawSenders: readonly string[],
  ): Promise<Outcome<{ accountId: string; keyId: string; apiKey: string; senders: string[] }>> {
    const accountId = deps.newId();
    const senders: string[] = [];
    for (const raw of rawSenders) {
      const sender = normaliseSender(raw);
      if (!sender.ok) return invalidSender(raw, sender.message);
      const claim = senderClaimFrom(sender.value, await store.readStream(senderStreamId(sender.value)));
      // Checked before the account exists, so a taken sender leaves no half-made account behind.
      const free = decideClaimSender(
        { type: 'ClaimSender', data: { accountId, sender: sender.value, claimedAt: at() } },
        claim,
      );
      if (!free.ok) return free;
      if (!senders.includes(sender.value)) senders.push(sender.value);
    }
    const createdAt = at();
    const created = await onAccount(accountId, (s) =>
      decideCreateAccount({ type: 'CreateAccount', data: { accountId, name, createdAt } }, s),
    );
    if (!created.ok) return created;
    for (const sender of senders) {
      const added = await addSender(accountId, sender);
      if (!added.ok && added.reason === 'sender_taken')
        return { ...added, detail: `${added.detail}; account ${accountId} was created without it` };
      if (!added.ok) return added;
    }
    const key = await issueKey(accountId, 'default');
    if (!key.ok) return key;
    return { ok: true, value: { accountId, keyId: key.value.keyId, apiKey: key.value.apiKey, senders } };
  }

  /** Every account, folded from the log (so it is current even when no projector runs), oldest first. */
  async function listAccounts(): Promise<AccountState[]> {
    const byStream = new Map<string, RecordedEvent[]>();
    let after: string | null = null;
    for (;;) {
      const batch = await store.readAll({ after, category: 'account', limit: 1000 });
      if (batch.length === 0) break;
      for (const e of batch) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
      after = (batch.at(-1) as RecordedEvent).position;
    }
    return [...byStream.values()]
      .map((events) => accountStateFrom(events))
      .filter((s): s is AccountState => s !== null)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.accountId.localeCompare(b.accountId));
  }

  /** An account by id, or by name when exactly one account has it. */
  async function findAccount(ref: string): Promise<Outcome<AccountState>> {
    const byId = /^[0-9a-f-]{36}$/i.test(ref) ? await loadAccount(ref.toLowerCase()) : null;
    if (byId) return { ok: true, value: byId };
    const named = (await listAccounts()).filter((a) => a.name === ref);
    if (named.length === 1) return { ok: true, value: named[0] as AccountState };
    if (named.length > 1)
      return {
        ok: false,
        reason: 'invalid',
        errors: [{ field: 'account', message: `${named.length} accounts are named ${ref}: use the account id` }],
      };
    return { ok: false, reason: 'not_found', detail: `no account ${ref}` };
  }

  return { createAccount, addSender, removeSender, issueKey, revokeKey, listAccounts, findAccount };
}
