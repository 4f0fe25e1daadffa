// An account's state folded from its stream, and a sender's owner folded from its claim stream: what the
// account decisions are made on. `version` is the stream version the state reflects (-1: no stream yet);
// the caller appends the decided events expecting it.
import { type Fold, foldEvents } from '../decider.ts';
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

/** An account stream's fold: events as read from the log, validated; other types are not on it. */
export const accountFold: Fold<AccountState | null, AccountEvent> = {
  initialState: () => null,
  evolve: evolveAccount,
  parse: (type, data) => (isAccountEventType(type) ? parseAccountEvent(type, data) : null),
};

export const accountStateFrom = (events: readonly { type: string; data: unknown }[]): AccountState | null =>
  foldEvents(accountFold, events);

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

/** A sender's claim stream's fold. */
export const senderClaimFold = (sender: string): Fold<SenderClaimState, SenderClaimEvent> => ({
  initialState: () => initialSenderClaim(sender),
  evolve: evolveSenderClaim,
  parse: (type, data) => (isSenderClaimEventType(type) ? parseSenderClaimEvent(type, data) : null),
});

export const senderClaimFrom = (sender: string, events: readonly { type: string; data: unknown }[]) =>
  foldEvents(senderClaimFold(sender), events);
