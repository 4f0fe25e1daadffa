// The account unauthenticated requests act as in local mode (NODE_ENV not production). Fixed, so every
// instance and every restart agree on it without coordination.
export const localAccountId = '00000000-0000-4000-8000-00000000000a';
export const localAccountName = 'local';
