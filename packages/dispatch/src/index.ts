export * from './circuit-breaker.ts';
export * from './concurrency-limit.ts';
export * from './dispatch-attempt.ts';
export * from './dispatch-decision.ts';
export * from './http-provider-clients.ts';
export * from './message-dispatch-state.ts';
export * from './provider-client.ts';
export * from './retry-policy.ts';
