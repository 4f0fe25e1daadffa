// The account unauthenticated requests act as in local mode (NODE_ENV not production). Fixed, so every
// instance and every restart agree on it without coordination.
export const localAccountId = '00000000-0000-4000-8000-00000000000a';
export const localAccountName = 'local';

/** The account of a fact recorded before events carried one (contacts, consent): the local account's. */
export const accountOrLocal = (data: { accountId?: string | undefined }) => data.accountId ?? localAccountId;
