// Contact commands across their streams, each write through the one handler. Today's semantics, kept:
// the contact's stream is written first at the version read, so a concurrent change to the contact answers
// a conflict with nothing written; then the address's claim stream decides who holds the address (also at
// the version read). Neither is retried: the client is told to read again and retry. Every command acts
// within one account (`accountId`, the caller's): the claim streams are the account's, and a contact of
// another account is not found.
import {
  type Accepted,
  type AddressClaim,
  type AddressHolder,
  addressHolderFold,
  type ContactEvent,
  type ContactRejection,
  type ContactState,
  contactAddressStreamId,
  contactFold,
  contactStreamId,
  decideAddContactAddress,
  decideClaimAddress,
  decideCreateContact,
  decideMergeContacts,
  decideRecordMergedAddresses,
  decideRemoveContactAddress,
  decideRenameContact,
  foldEvents,
  isStrandedClaim,
  type PendingEvent,
} from '@hatch/domain';
import { WrongExpectedVersionError } from '@hatch/event-store';
import { type CommandLog, type CommandMetadata, type CommandSpec, handleCommand } from './handle-command.ts';

/** Another request changed the stream between the read and the append. */
export type ContactConflict =
  | { ok: false; reason: 'concurrent_modification'; streamId: string }
  | { ok: false; reason: 'claim_conflict'; address: string };

export type ContactOutcome =
  | { ok: true; contact: ContactState; position: string | null }
  | ContactRejection
  | ContactConflict;

const conflictsAs = async <T>(work: Promise<T>, conflict: ContactConflict): Promise<T | ContactConflict> => {
  try {
    return await work;
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) return conflict;
    throw error;
  }
};

export function contactCommands(log: CommandLog) {
  const readFold = async <S, E>(fold: Parameters<typeof foldEvents<S, E>>[0], streamId: string) =>
    foldEvents(fold, await log.readStream(streamId));

  /**
   * What a claim means at `at`: a holder that was merged away, or that never came to exist (a create that
   * failed after claiming, see `isStrandedClaim`), no longer holds anything.
   */
  async function holderInfo(claim: AddressClaim, at: string, ...ignoring: (string | null)[]): Promise<AddressHolder> {
    const holder = claim.contactId;
    if (holder === null || ignoring.includes(holder)) return { contactId: holder, mergedAway: false, stranded: false };
    const state = await readFold(contactFold, contactStreamId(holder));
    return { contactId: holder, mergedAway: Boolean(state?.mergedInto), stranded: isStrandedClaim(claim, state, at) };
  }

  /** Moves `address` to `contactId` (null: releases it) unless a live contact other than `from` holds it. */
  async function claim(
    accountId: string,
    address: string,
    contactId: string | null,
    from: string | null,
    commandId: string,
    at: string,
    metadata: CommandMetadata,
  ): Promise<ContactRejection | ContactConflict | null> {
    const streamId = contactAddressStreamId(accountId, address);
    const handled = await conflictsAs(
      handleCommand(log, {
        streamId,
        fold: addressHolderFold,
        context: (current) => holderInfo(current, at, contactId, from),
        decide: (_, holder) =>
          decideClaimAddress(
            { type: 'ClaimContactAddress', data: { commandId, accountId, address, contactId, from, claimedAt: at } },
            holder,
          ),
        metadata,
        maxAttempts: 1,
      }),
      { ok: false, reason: 'claim_conflict', address },
    );
    if ('decision' in handled) return handled.decision.ok ? null : handled.decision;
    return handled;
  }

  /** Appends a contact-stream decision at the version read; a concurrent change is a conflict. */
  const onContact = async <D extends Accepted<PendingEvent> | ContactRejection, C = undefined>(
    spec: Omit<CommandSpec<ContactState | null, ContactEvent, D, C>, 'fold'>,
  ): Promise<{ ok: true; state: ContactState; position: string | null } | ContactRejection | ContactConflict> => {
    const handled = await conflictsAs(handleCommand(log, { ...spec, fold: contactFold, maxAttempts: 1 }), {
      ok: false,
      reason: 'concurrent_modification',
      streamId: spec.streamId,
    });
    if (!('decision' in handled)) return handled;
    if (!handled.decision.ok) return handled.decision as ContactRejection;
    // An accepted contact decision was made on a live contact.
    return { ok: true, state: handled.state as ContactState, position: handled.result?.position ?? null };
  };

  const answer = (contact: ContactState, position: string | null | undefined): ContactOutcome => ({
    ok: true,
    contact,
    position: position ?? null,
  });

  return {
    /**
     * Claims every address first, then records the contact. When a claim is refused or recording the
     * contact fails, what it claimed is given back; should the give-back fail too (or the process stop
     * half-way), the claims name a contact that never came to exist and count as free after a grace period.
     */
    async create(
      data: {
        accountId: string;
        contactId: string;
        displayName: string | null;
        addresses: string[];
        createdAt: string;
      },
      metadata: CommandMetadata,
    ): Promise<ContactOutcome> {
      const claimed: string[] = [];
      const giveBack = async () => {
        for (const address of claimed)
          await claim(data.accountId, address, null, data.contactId, data.contactId, data.createdAt, metadata).catch(
            () => null,
          );
      };
      try {
        for (const address of data.addresses) {
          const refused = await claim(
            data.accountId,
            address,
            data.contactId,
            null,
            data.contactId,
            data.createdAt,
            metadata,
          );
          if (refused) throw refused;
          claimed.push(address);
        }
      } catch (refusal) {
        await giveBack();
        if (refusal instanceof Error) throw refusal;
        return refusal as ContactRejection | ContactConflict;
      }
      const streamId = contactStreamId(data.contactId);
      let position: string | null;
      try {
        const { result } = await handleCommand(log, {
          streamId,
          fold: contactFold,
          decide: () => decideCreateContact({ type: 'CreateContact', data }),
          metadata,
          concurrency: 'no_stream',
        });
        position = result?.position ?? null;
      } catch (error) {
        // Only a contact that is not in the log gives its addresses back (an append may fail after committing).
        const recorded = await log.readStream(streamId).catch(() => null);
        if (recorded?.length === 0) await giveBack();
        throw error;
      }
      const { createdAt: _, ...contact } = data;
      return { ok: true, contact: { ...contact, mergedInto: null }, position };
    },

    async rename(
      data: { commandId: string; accountId: string; contactId: string; displayName: string | null; renamedAt: string },
      metadata: CommandMetadata,
    ): Promise<ContactOutcome> {
      const done = await onContact({
        streamId: contactStreamId(data.contactId),
        decide: (state) => decideRenameContact({ type: 'RenameContact', data }, state),
        metadata,
      });
      if (!done.ok) return done;
      const { state } = done;
      return answer({ ...state, displayName: data.displayName }, done.position);
    },

    /**
     * The address's claim stream decides first (at the version read: another contact taking it meanwhile is a
     * conflict with nothing written), then the contact's stream records it, decided again on a concurrent
     * change to the contact (the claim is already this contact's, so a retry cannot be refused for it). Only
     * when the contact itself went away meanwhile (merged) is the claim given back.
     */
    async addAddress(
      data: { commandId: string; accountId: string; contactId: string; address: string; addedAt: string },
      metadata: CommandMetadata,
    ): Promise<ContactOutcome> {
      const streamId = contactStreamId(data.contactId);
      const command = { type: 'AddContactAddress' as const, data };
      const state = await readFold(contactFold, streamId);
      const holder = await holderInfo(
        await readFold(addressHolderFold, contactAddressStreamId(data.accountId, data.address)),
        data.addedAt,
        data.contactId,
      );
      const check = decideAddContactAddress(command, state, holder);
      if (!check.ok) return check;
      if (check.events.length === 0) return answer(state as ContactState, '');
      const refused = await claim(
        data.accountId,
        data.address,
        data.contactId,
        null,
        data.commandId,
        data.addedAt,
        metadata,
      );
      if (refused) return refused;
      const recorded = await conflictsAs(
        handleCommand(log, {
          streamId,
          fold: contactFold,
          decide: (current) =>
            decideAddContactAddress(command, current, {
              contactId: data.contactId,
              mergedAway: false,
              stranded: false,
            }),
          metadata,
        }),
        { ok: false, reason: 'concurrent_modification', streamId } as const,
      );
      const outcome = 'decision' in recorded ? recorded.decision : recorded;
      if (!outcome.ok) {
        await claim(data.accountId, data.address, null, data.contactId, data.commandId, data.addedAt, metadata).catch(
          () => null,
        );
        return outcome;
      }
      const current = (recorded as { state: ContactState | null }).state as ContactState;
      const position = 'result' in recorded ? (recorded.result?.position ?? '') : '';
      return answer({ ...current, addresses: [...current.addresses, data.address] }, position);
    },

    /** The contact's stream first, then the address is released (its next message makes it implicit again). */
    async removeAddress(
      data: { commandId: string; accountId: string; contactId: string; address: string; removedAt: string },
      metadata: CommandMetadata,
    ): Promise<ContactOutcome> {
      const done = await onContact({
        streamId: contactStreamId(data.contactId),
        decide: (state) => decideRemoveContactAddress({ type: 'RemoveContactAddress', data }, state),
        metadata,
      });
      if (!done.ok) return done;
      const { state } = done;
      const refused = await claim(
        data.accountId,
        data.address,
        null,
        data.contactId,
        data.commandId,
        data.removedAt,
        metadata,
      );
      if (refused) return refused;
      const addresses = state.addresses.filter((a) => a !== data.address);
      return answer({ ...state, addresses }, done.position);
    },

    /**
     * Decided on the merged contact's stream; the addresses' streams follow (a merged holder counts as not
     * holding, should this be cut short), and the survivor's stream records what it now holds.
     */
    async merge(
      data: { commandId: string; accountId: string; contactId: string; otherId: string; mergedAt: string },
      metadata: CommandMetadata,
    ): Promise<ContactOutcome> {
      const command = { type: 'MergeContacts' as const, data };
      if (data.otherId === data.contactId) return { ok: false, reason: 'merge_into_itself' };
      const done = await onContact({
        streamId: contactStreamId(data.otherId),
        context: () => readFold(contactFold, contactStreamId(data.contactId)),
        decide: (other, survivor) => decideMergeContacts(command, other, survivor),
        metadata,
      });
      if (!done.ok) return done;
      const moved = done.state.addresses;
      for (const address of moved) {
        const refused = await claim(
          data.accountId,
          address,
          data.contactId,
          data.otherId,
          data.commandId,
          data.mergedAt,
          metadata,
        );
        if (refused) return refused;
      }
      const recorded = await handleCommand(log, {
        streamId: contactStreamId(data.contactId),
        fold: contactFold,
        decide: (survivor) => decideRecordMergedAddresses(command, survivor, moved),
        metadata,
        concurrency: 'any',
      });
      const survivor = recorded.state as ContactState;
      return answer({ ...survivor, addresses: [...survivor.addresses, ...moved] }, done.position);
    },
  };
}
