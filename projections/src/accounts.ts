// `accounts`, `account_senders`, `api_keys`: the customers, the senders each owns and their keys (hashes
// only). Folded from the account streams' events; the claim streams (`SenderClaimed`/`SenderReleased`) only
// guard the log and add nothing here. The route side reads these tables to authenticate a key by its hash,
// to check that a send's `from` is owned, and to route inbound messages by their `to`.
import type { Queryable } from '@hatch/event-store';
import type { ProjectedDomainEvent, Projection } from './projection.ts';
import { qualified, selectRowsByIdSql, upsertRowsSql } from './sql.ts';

export interface AccountRow {
  account_id: string;
  name: string;
  created_at: string;
  updated_position: string;
}

export interface AccountSenderRow {
  sender: string;
  account_id: string;
  kind: 'phone' | 'email' | 'email_domain';
  added_at: string;
  updated_position: string;
}

export interface ApiKeyRow {
  key_id: string;
  account_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  issued_at: string;
  revoked_at: string | null;
  updated_position: string;
}

/** The rows a batch touches, as loaded; a null sender row is one the batch released. */
export interface AccountsState {
  accounts: Map<string, AccountRow>;
  senders: Map<string, AccountSenderRow | null>;
  keys: Map<string, ApiKeyRow>;
  dirtyAccounts: Set<string>;
  dirtySenders: Set<string>;
  dirtyKeys: Set<string>;
}

export const emptyAccountsState = (): AccountsState => ({
  accounts: new Map(),
  senders: new Map(),
  keys: new Map(),
  dirtyAccounts: new Set(),
  dirtySenders: new Set(),
  dirtyKeys: new Set(),
});

/** Pure: folds one event into the state (the rows it changes are marked dirty). */
export function evolveAccounts(state: AccountsState, projected: ProjectedDomainEvent): void {
  const { event, position } = projected;
  switch (event.type) {
    case 'AccountCreated': {
      const { accountId, name, createdAt } = event.data;
      state.accounts.set(accountId, { account_id: accountId, name, created_at: createdAt, updated_position: position });
      state.dirtyAccounts.add(accountId);
      break;
    }
    case 'SenderAdded': {
      const { accountId, sender, kind, addedAt } = event.data;
      state.senders.set(sender, { sender, account_id: accountId, kind, added_at: addedAt, updated_position: position });
      state.dirtySenders.add(sender);
      break;
    }
    case 'SenderRemoved': {
      // Only the owner's removal releases the row (the claims keep one owner; this keeps a rebuild exact anyway).
      if (state.senders.get(event.data.sender)?.account_id !== event.data.accountId) break;
      state.senders.set(event.data.sender, null);
      state.dirtySenders.add(event.data.sender);
      break;
    }
    case 'ApiKeyIssued': {
      const d = event.data;
      state.keys.set(d.keyId, {
        key_id: d.keyId,
        account_id: d.accountId,
        name: d.name,
        key_hash: d.keyHash,
        prefix: d.prefix,
        issued_at: d.issuedAt,
        revoked_at: null,
        updated_position: position,
      });
      state.dirtyKeys.add(d.keyId);
      break;
    }
    case 'ApiKeyRevoked': {
      const key = state.keys.get(event.data.keyId);
      if (!key || key.account_id !== event.data.accountId || key.revoked_at !== null) break;
      state.keys.set(key.key_id, { ...key, revoked_at: event.data.revokedAt, updated_position: position });
      state.dirtyKeys.add(key.key_id);
      break;
    }
    default:
      break;
  }
}

const accountColumns = ['account_id', 'name', 'created_at', 'updated_position'];
const senderColumns = ['sender', 'account_id', 'kind', 'added_at', 'updated_position'];
const keyColumns = [
  'key_id',
  'account_id',
  'name',
  'key_hash',
  'prefix',
  'issued_at',
  'revoked_at',
  'updated_position',
];

const accountEventTypes = new Set(['AccountCreated', 'SenderAdded', 'SenderRemoved', 'ApiKeyIssued', 'ApiKeyRevoked']);

export const accountsProjection: Projection = {
  name: 'accounts',
  tables: ['accounts', 'account_senders', 'api_keys'],
  async apply(db: Queryable, schema: string, _messages, domain) {
    const events = domain.filter((e) => accountEventTypes.has(e.event.type));
    if (events.length === 0) return;
    const senders = new Set<string>();
    const keys = new Set<string>();
    for (const { event } of events) {
      if (event.type === 'SenderAdded' || event.type === 'SenderRemoved') senders.add(event.data.sender);
      if (event.type === 'ApiKeyRevoked') keys.add(event.data.keyId);
    }
    const state = emptyAccountsState();
    if (senders.size > 0) {
      const { rows } = await db.query(selectRowsByIdSql(schema, 'account_senders', 'sender', 'text'), [[...senders]]);
      for (const r of rows) state.senders.set((r.row as AccountSenderRow).sender, r.row as AccountSenderRow);
    }
    if (keys.size > 0) {
      const { rows } = await db.query(selectRowsByIdSql(schema, 'api_keys', 'key_id', 'uuid'), [[...keys]]);
      for (const r of rows) state.keys.set((r.row as ApiKeyRow).key_id, r.row as ApiKeyRow);
    }
    for (const e of events) evolveAccounts(state, e);

    const pick = <T>(map: Map<string, T | null>, dirty: Set<string>) =>
      [...dirty].map((k) => map.get(k)).filter((r): r is T => r !== null && r !== undefined);
    const accounts = pick(state.accounts, state.dirtyAccounts);
    if (accounts.length > 0)
      await db.query(upsertRowsSql(schema, 'accounts', accountColumns, ['account_id']), [JSON.stringify(accounts)]);
    const released = [...state.dirtySenders].filter((s) => state.senders.get(s) === null);
    if (released.length > 0)
      await db.query(`DELETE FROM ${qualified(schema, 'account_senders')} WHERE sender = ANY($1::text[])`, [released]);
    const owned = pick(state.senders, state.dirtySenders);
    if (owned.length > 0)
      await db.query(upsertRowsSql(schema, 'account_senders', senderColumns, ['sender']), [JSON.stringify(owned)]);
    const changedKeys = pick(state.keys, state.dirtyKeys);
    if (changedKeys.length > 0)
      await db.query(upsertRowsSql(schema, 'api_keys', keyColumns, ['key_id']), [JSON.stringify(changedKeys)]);
  },
};
