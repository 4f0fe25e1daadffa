import { describe, expect, it } from 'vitest';
import {
  type AccountState,
  evolveAccount,
  evolveSenderClaim,
  initialSenderClaim,
  type SenderClaimState,
} from './account-state.ts';
import { hashApiKey } from './api-keys.ts';
import {
  type AccountDecision,
  decideAddSender,
  decideClaimSender,
  decideCreateAccount,
  decideIssueApiKey,
  decideReleaseSender,
  decideRemoveSender,
  decideRevokeApiKey,
} from './decisions.ts';
import {
  type AccountEvent,
  accountEventId,
  parseAccountEvent,
  parseSenderClaimEvent,
  type SenderClaimEvent,
} from './events.ts';

// given(events).when(command) → the decision; `then` compares the events (without their ids) or the refusal.
const account = (events: AccountEvent[]) => ({
  when: <E>(decide: (state: AccountState | null) => AccountDecision<E>) =>
    outcome(decide(events.reduce(evolveAccount, null))),
});
const claim = (sender: string, events: SenderClaimEvent[]) => ({
  when: <E>(decide: (state: SenderClaimState) => AccountDecision<E>) =>
    outcome(decide(events.reduce(evolveSenderClaim, initialSenderClaim(sender)))),
});
function outcome<E>(decision: AccountDecision<E>) {
  return {
    decision,
    thenEvents(expected: unknown[]) {
      if (!decision.ok) throw new Error(`refused: ${JSON.stringify(decision)}`);
      expect(decision.events.map(({ id: _id, ...event }) => event)).toEqual(expected);
    },
    thenRefused(expected: Record<string, unknown>) {
      expect(decision).toMatchObject({ ok: false, ...expected });
    },
  };
}

const accountId = '0b6f3c2e-6d1a-4c1e-9f7a-2b3c4d5e6f70';
const otherAccount = '9d8c7b6a-5f4e-4d3c-8b2a-1a2b3c4d5e6f';
const keyId = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const at = '2026-11-25T10:00:00.000Z';
const later = '2026-11-25T11:00:00.000Z';
const created: AccountEvent = { type: 'AccountCreated', data: { accountId, name: 'Acme', createdAt: at } };
const phoneAdded: AccountEvent = {
  type: 'SenderAdded',
  data: { accountId, sender: '+12016661234', kind: 'phone', addedAt: at },
};
const keyHash = hashApiKey('hk_live_0123456789012345678901234567890123456789');
const keyIssued: AccountEvent = {
  type: 'ApiKeyIssued',
  data: { accountId, keyId, name: 'default', keyHash, prefix: 'hk_live_012345', issuedAt: at },
};

describe('decideCreateAccount', () => {
  const create = (name: string) => ({ type: 'CreateAccount' as const, data: { accountId, name, createdAt: at } });

  it('creates a new account on a new stream, with a valid event and a deterministic id', () => {
    const { decision } = account([]).when((s) => decideCreateAccount(create('  Acme  '), s));
    account([])
      .when((s) => decideCreateAccount(create('Acme'), s))
      .thenEvents([created]);
    if (!decision.ok) throw new Error('expected ok');
    expect(decision).toMatchObject({ streamId: `account-${accountId}`, expectedVersion: -1 });
    expect(decision.events[0]?.id).toBe(accountEventId(`account-${accountId}`, 0, 'AccountCreated'));
    expect(parseAccountEvent('AccountCreated', decision.events[0]?.data).type).toBe('AccountCreated');
    expect(decideCreateAccount(create('Acme'), null)).toEqual(decision);
  });

  it('refuses an existing account and an empty or overlong name', () => {
    account([created])
      .when((s) => decideCreateAccount(create('Acme'), s))
      .thenRefused({ reason: 'already_exists' });
    account([])
      .when((s) => decideCreateAccount(create('   '), s))
      .thenRefused({ reason: 'invalid' });
    account([])
      .when((s) => decideCreateAccount(create('x'.repeat(101)), s))
      .thenRefused({ reason: 'invalid', errors: [{ field: 'name', message: 'must be at most 100 characters' }] });
  });
});

describe('decideAddSender / decideRemoveSender', () => {
  const add = (sender: string) => ({ type: 'AddSender' as const, data: { accountId, sender, addedAt: at } });
  const remove = (sender: string) => ({
    type: 'RemoveSender' as const,
    data: { accountId, sender, removedAt: later },
  });

  it('adds a normalised phone, email or @domain with its kind', () => {
    account([created])
      .when((s) => decideAddSender(add('+1 (201) 666-1234'), s))
      .thenEvents([phoneAdded]);
    account([created])
      .when((s) => decideAddSender(add('[Ops@Example.com](mailto:Ops@Example.com)'), s))
      .thenEvents([
        { type: 'SenderAdded', data: { accountId, sender: 'ops@example.com', kind: 'email', addedAt: at } },
      ]);
    account([created])
      .when((s) => decideAddSender(add('@Example.COM'), s))
      .thenEvents([
        { type: 'SenderAdded', data: { accountId, sender: '@example.com', kind: 'email_domain', addedAt: at } },
      ]);
  });

  it('decides nothing for a sender the account already owns, and refuses bad input or no account', () => {
    account([created, phoneAdded])
      .when((s) => decideAddSender(add('2016661234'), s))
      .thenEvents([]);
    account([created])
      .when((s) => decideAddSender(add('not a sender'), s))
      .thenRefused({ reason: 'invalid', errors: [{ field: 'sender' }] });
    account([created])
      .when((s) => decideAddSender(add('@nodot'), s))
      .thenRefused({ reason: 'invalid' });
    account([])
      .when((s) => decideAddSender(add('+12016661234'), s))
      .thenRefused({ reason: 'not_found' });
  });

  it('removes an owned sender (keeping its kind) and refuses one it does not own', () => {
    account([created, phoneAdded])
      .when((s) => decideRemoveSender(remove('+12016661234'), s))
      .thenEvents([
        { type: 'SenderRemoved', data: { accountId, sender: '+12016661234', kind: 'phone', removedAt: later } },
      ]);
    account([created])
      .when((s) => decideRemoveSender(remove('+12016661234'), s))
      .thenRefused({ reason: 'not_found' });
  });

  it('gives a re-added sender a new event id (the n-th event of the stream)', () => {
    const removed: AccountEvent = {
      type: 'SenderRemoved',
      data: { accountId, sender: '+12016661234', kind: 'phone', removedAt: later },
    };
    const first = decideAddSender(add('+12016661234'), [created].reduce(evolveAccount, null));
    const again = decideAddSender(add('+12016661234'), [created, phoneAdded, removed].reduce(evolveAccount, null));
    if (!first.ok || !again.ok) throw new Error('expected ok');
    expect(again.expectedVersion).toBe(2);
    expect(again.events[0]?.id).not.toBe(first.events[0]?.id);
  });
});

describe('decideIssueApiKey / decideRevokeApiKey', () => {
  const issue = (over: Partial<{ keyHash: string; prefix: string; name: string }> = {}) => ({
    type: 'IssueApiKey' as const,
    data: { accountId, keyId, name: 'default', keyHash, prefix: 'hk_live_012345', issuedAt: at, ...over },
  });
  const revoke = { type: 'RevokeApiKey' as const, data: { accountId, keyId, revokedAt: later } };
  const revoked: AccountEvent = { type: 'ApiKeyRevoked', data: { accountId, keyId, revokedAt: later } };

  it('issues a key as its hash and prefix', () => {
    account([created])
      .when((s) => decideIssueApiKey(issue(), s))
      .thenEvents([keyIssued]);
  });

  it('refuses a reused key id, something that is not a hash, and an unknown account', () => {
    account([created, keyIssued])
      .when((s) => decideIssueApiKey(issue(), s))
      .thenRefused({ reason: 'already_exists' });
    account([created])
      .when((s) => decideIssueApiKey(issue({ keyHash: 'hk_live_the-key-itself', prefix: 'sk_x' }), s))
      .thenRefused({ reason: 'invalid', errors: [{ field: 'keyHash' }, { field: 'prefix' }] });
    account([])
      .when((s) => decideIssueApiKey(issue(), s))
      .thenRefused({ reason: 'not_found' });
  });

  it('revokes once; revoking again decides nothing; an unknown key is refused', () => {
    account([created, keyIssued])
      .when((s) => decideRevokeApiKey(revoke, s))
      .thenEvents([revoked]);
    account([created, keyIssued, revoked])
      .when((s) => decideRevokeApiKey(revoke, s))
      .thenEvents([]);
    account([created])
      .when((s) => decideRevokeApiKey(revoke, s))
      .thenRefused({ reason: 'not_found' });
  });

  it('folds a revocation into the key state', () => {
    const state = [created, keyIssued, revoked].reduce(evolveAccount, null);
    expect(state?.apiKeys[keyId]).toMatchObject({ keyHash, revokedAt: later });
    expect(state?.version).toBe(2);
  });
});

describe('decideClaimSender / decideReleaseSender', () => {
  const sender = '+12016661234';
  const claimBy = (id: string) => ({
    type: 'ClaimSender' as const,
    data: { accountId: id, sender: '(201) 666-1234', claimedAt: at },
  });
  const releaseBy = (id: string) => ({
    type: 'ReleaseSender' as const,
    data: { accountId: id, sender, releasedAt: later },
  });
  const claimed: SenderClaimEvent = { type: 'SenderClaimed', data: { sender, accountId, claimedAt: at } };
  const released: SenderClaimEvent = { type: 'SenderReleased', data: { sender, accountId, releasedAt: later } };

  it('claims a free sender on its own stream, from no stream', () => {
    const { decision } = claim(sender, []).when((c) => decideClaimSender(claimBy(accountId), c));
    claim(sender, [])
      .when((c) => decideClaimSender(claimBy(accountId), c))
      .thenEvents([claimed]);
    expect(decision).toMatchObject({ ok: true, streamId: 'sender-+12016661234', expectedVersion: -1 });
    if (decision.ok)
      expect(parseSenderClaimEvent('SenderClaimed', decision.events[0]?.data).type).toBe('SenderClaimed');
  });

  it('refuses a sender another account owns, naming the owner for the operator', () => {
    claim(sender, [claimed])
      .when((c) => decideClaimSender(claimBy(otherAccount), c))
      .thenRefused({ reason: 'sender_taken', sender, ownedBy: accountId });
  });

  it('decides nothing when the account already holds the claim (completing an interrupted add)', () => {
    claim(sender, [claimed])
      .when((c) => decideClaimSender(claimBy(accountId), c))
      .thenEvents([]);
  });

  it('releases only its own claim, after which another account may claim it', () => {
    claim(sender, [claimed])
      .when((c) => decideReleaseSender(releaseBy(accountId), c))
      .thenEvents([released]);
    claim(sender, [claimed])
      .when((c) => decideReleaseSender(releaseBy(otherAccount), c))
      .thenEvents([]);
    const { decision } = claim(sender, [claimed, released]).when((c) => decideClaimSender(claimBy(otherAccount), c));
    expect(decision).toMatchObject({ ok: true, expectedVersion: 1 });
  });
});
