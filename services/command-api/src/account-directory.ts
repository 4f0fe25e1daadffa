// Who a key belongs to and who owns a sender, as this instance knows it: the account streams folded in
// memory, caught up from the log when the view is older than `maxAgeMs`. The log, not the read tables, so
// a key or a revocation counts on every instance within `maxAgeMs` of its append whether or not a
// projector runs, on either event-store adapter. Catching up reads only the events since the last one.
import { type CommandLog, handleCommand } from '@hatch/commands';
import {
  type AccountState,
  accountEventSchemaVersion,
  accountFold,
  accountStreamId,
  type Channel,
  decideAddSender,
  decideClaimSender,
  decideCreateAccount,
  evolveAccount,
  hashApiKey,
  isAccountEventType,
  isApiKeyShaped,
  localAccountId,
  localAccountName,
  parseAccountEvent,
  senderCandidates,
  senderClaimFold,
  senderOwnedBy,
} from '@hatch/domain';
import type { EventStore, LogPosition } from '@hatch/event-store';

export type SenderUse = { ok: true } | { ok: false; reason: 'not_owned' | 'taken' };

/** One issued key: its account and its id (never the key or its hash). */
export interface KeyRef {
  accountId: string;
  keyId: string;
}

export interface AccountDirectory {
  /** The account whose live key this is; null for an unknown, revoked or malformed key. */
  accountForKey(key: string): Promise<string | null>;
  /** The live key this is; null for an unknown, revoked or malformed key. */
  liveKey(key: string): Promise<KeyRef | null>;
  /** Whether the key is still live (a sign-in session bound to it ends when it is revoked). */
  isLive(ref: KeyRef): Promise<boolean>;
  /** The account's name; null for an unknown account. */
  accountName(accountId: string): Promise<string | null>;
  /** The account owning `to` on `channel` (most specific sender first); null when nobody does. */
  ownerOf(channel: Channel, to: string): Promise<string | null>;
  /** Whether the account may send from `from`; `claimUnowned` adds an unowned sender to it first (local mode). */
  /** `correlationId`: the request a first-use claim is made for (its events are attributed to it). */
  useSender(
    accountId: string,
    channel: Channel,
    from: string,
    claimUnowned: boolean,
    correlationId?: string,
  ): Promise<SenderUse>;
  /** Creates the account if it does not exist (idempotent across restarts and instances). */
  ensureAccount(accountId: string, name: string): Promise<void>;
  /** Whether the account exists (false for a deprecated `API_KEYS` client name). */
  knows(accountId: string): Promise<boolean>;
}

export interface AccountDirectoryOptions {
  store: Pick<EventStore, 'readAll'> & CommandLog;
  now: () => Date;
  /** How stale the view may be; also the longest a revoked key keeps working on this instance. */
  maxAgeMs?: number;
}

const batch = 1000;

export function accountDirectory({ store, now, maxAgeMs = 500 }: AccountDirectoryOptions): AccountDirectory {
  const accounts = new Map<string, AccountState>();
  const keyOwners = new Map<string, { accountId: string; keyId: string }>(); // key hash → key
  const senderOwners = new Map<string, string>(); // normalised sender → account
  let position: LogPosition | null = null;
  let caughtUpAt = Number.NEGATIVE_INFINITY;
  let catchingUp: Promise<void> | null = null;

  function apply(type: string, data: unknown) {
    if (!isAccountEventType(type)) return;
    const event = parseAccountEvent(type, data);
    const id = event.data.accountId;
    const next = evolveAccount(accounts.get(id) ?? null, event);
    if (next) accounts.set(id, next);
    if (event.type === 'ApiKeyIssued') keyOwners.set(event.data.keyHash, { accountId: id, keyId: event.data.keyId });
    if (event.type === 'SenderAdded') senderOwners.set(event.data.sender, id);
    if (event.type === 'SenderRemoved' && senderOwners.get(event.data.sender) === id)
      senderOwners.delete(event.data.sender);
  }

  async function catchUp() {
    for (;;) {
      const events = await store.readAll({ after: position, category: 'account', limit: batch });
      for (const e of events) apply(e.type, e.data);
      position = events.at(-1)?.position ?? position;
      if (events.length < batch) return;
    }
  }

  /** Single-flight: concurrent requests share one catch-up. */
  async function current(force = false) {
    if (!force && Date.now() - caughtUpAt < maxAgeMs) return;
    if (!catchingUp) {
      const started = Date.now();
      catchingUp = catchUp()
        .then(() => {
          caughtUpAt = started;
        })
        .finally(() => {
          catchingUp = null;
        });
    }
    await catchingUp;
  }

  const metadata = (actor: string, correlationId?: string) => ({
    correlationId: correlationId ?? `accounts:${now().toISOString()}`,
    causationId: null,
    actor,
    schemaVersion: accountEventSchemaVersion,
  });

  async function claim(accountId: string, sender: string, correlationId?: string): Promise<boolean> {
    const at = now().toISOString();
    const claimed = await handleCommand(store, {
      streamId: `sender-${sender}`,
      fold: senderClaimFold(sender),
      decide: (c) => decideClaimSender({ type: 'ClaimSender', data: { accountId, sender, claimedAt: at } }, c),
      metadata: metadata('command-api', correlationId),
    });
    if (!claimed.decision.ok) return false;
    await handleCommand(store, {
      streamId: accountStreamId(accountId),
      fold: accountFold,
      decide: (s) => decideAddSender({ type: 'AddSender', data: { accountId, sender, addedAt: at } }, s),
      metadata: metadata('command-api', correlationId),
    });
    await current(true);
    return true;
  }

  const live = (ref: KeyRef) => accounts.get(ref.accountId)?.apiKeys[ref.keyId]?.revokedAt === null;

  return {
    async accountForKey(key) {
      return (await this.liveKey(key))?.accountId ?? null;
    },
    async liveKey(key) {
      if (!isApiKeyShaped(key)) return null;
      await current();
      const owner = keyOwners.get(hashApiKey(key));
      return owner && live(owner) ? { accountId: owner.accountId, keyId: owner.keyId } : null;
    },
    async isLive(ref) {
      await current();
      return live(ref);
    },
    async accountName(accountId) {
      await current();
      return accounts.get(accountId)?.name ?? null;
    },
    async ownerOf(channel, to) {
      await current();
      for (const candidate of senderCandidates(channel, to)) {
        const owner = senderOwners.get(candidate);
        if (owner) return owner;
      }
      return null;
    },
    async useSender(accountId, channel, from, claimUnowned, correlationId) {
      await current();
      if (senderOwnedBy(accounts.get(accountId) ?? null, channel, from)) return { ok: true };
      if (!claimUnowned) return { ok: false, reason: 'not_owned' };
      if (accountId === localAccountId && !accounts.has(accountId))
        await this.ensureAccount(accountId, localAccountName);
      // The number or address itself (not a whole domain): the narrowest sender that covers this send.
      const [sender] = senderCandidates(channel, from);
      if (!sender) return { ok: false, reason: 'not_owned' };
      return (await claim(accountId, sender, correlationId)) ? { ok: true } : { ok: false, reason: 'taken' };
    },
    async ensureAccount(accountId, name) {
      await handleCommand(store, {
        streamId: accountStreamId(accountId),
        fold: accountFold,
        decide: (s) =>
          decideCreateAccount({ type: 'CreateAccount', data: { accountId, name, createdAt: now().toISOString() } }, s),
        metadata: metadata('command-api'),
      });
      await current(true);
    },
    async knows(accountId) {
      await current();
      return accounts.has(accountId);
    },
  };
}
