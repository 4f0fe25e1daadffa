export * from './endpoint-decisions.ts';
export * from './endpoint-state.ts';
export * from './endpoint-url.ts';
export * from './event-types.ts';
export * from './events.ts';
export * from './signature.ts';
