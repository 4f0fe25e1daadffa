export * from './account-state.ts';
export * from './api-keys.ts';
export * from './decisions.ts';
export * from './events.ts';
export * from './local-account.ts';
export * from './senders.ts';
