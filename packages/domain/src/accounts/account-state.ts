// An account's state folded from its stream, and a sender's owner folded from its claim stream: what the
// account decisions are made on. `version` is the stream version the state reflects (-1: no stream yet);
// the caller appends the decided events expecting it.
import {
  type AccountEvent,
  isAccountEventType,
  isSenderClaimEventType,
  parseAccountEvent,
  parseSenderClaimEvent,
  type SenderClaimEvent,
  type SenderKind,
} from './events.ts';

export interface ApiKeyState {
  keyId: string;
  name: string;
  prefix: string;
  keyHash: string;
  issuedAt: string;
  revokedAt: string | null;
}

export interface AccountState {
  accountId: string;
  name: string;
  createdAt: string;
  /** Owned senders (normalised) and their kind. */
  senders: Record<string, SenderKind>;
  apiKeys: Record<string, ApiKeyState>;
  version: number;
}

/** Null until `AccountCreated`. */
export function evolveAccount(state: AccountState | null, event: AccountEvent): AccountState | null {
  if (event.type === 'AccountCreated') {
    const { accountId, name, createdAt } = event.data;
    return { accountId, name, createdAt, senders: {}, apiKeys: {}, version: (state?.version ?? -1) + 1 };
  }
  if (!state) return state;
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'SenderAdded':
      return { ...next, senders: { ...state.senders, [event.data.sender]: event.data.kind } };
    case 'SenderRemoved': {
      const { [event.data.sender]: _removed, ...senders } = state.senders;
      return { ...next, senders };
    }
    case 'ApiKeyIssued': {
      const { keyId, name, prefix, keyHash, issuedAt } = event.data;
      return {
        ...next,
        apiKeys: { ...state.apiKeys, [keyId]: { keyId, name, prefix, keyHash, issuedAt, revokedAt: null } },
      };
    }
    case 'ApiKeyRevoked': {
      const key = state.apiKeys[event.data.keyId];
      if (!key) return next;
      return { ...next, apiKeys: { ...state.apiKeys, [key.keyId]: { ...key, revokedAt: event.data.revokedAt } } };
    }
    default:
      return next;
  }
}

/** Folds events as read from the log (validated here; other types are not on an account stream). */
export function accountStateFrom(events: readonly { type: string; data: unknown }[]): AccountState | null {
  let state: AccountState | null = null;
  for (const e of events)
    if (isAccountEventType(e.type)) state = evolveAccount(state, parseAccountEvent(e.type, e.data));
  return state;
}

export interface SenderClaimState {
  sender: string;
  /** The owning account; null when nobody owns it (never claimed, or released). */
  accountId: string | null;
  version: number;
}

export const initialSenderClaim = (sender: string): SenderClaimState => ({ sender, accountId: null, version: -1 });

export function evolveSenderClaim(state: SenderClaimState, event: SenderClaimEvent): SenderClaimState {
  const version = state.version + 1;
  if (event.type === 'SenderClaimed') return { ...state, accountId: event.data.accountId, version };
  return { ...state, accountId: state.accountId === event.data.accountId ? null : state.accountId, version };
}

export function senderClaimFrom(sender: string, events: readonly { type: string; data: unknown }[]) {
  let state = initialSenderClaim(sender);
  for (const e of events)
    if (isSenderClaimEventType(e.type)) state = evolveSenderClaim(state, parseSenderClaimEvent(e.type, e.data));
  return state;
}
