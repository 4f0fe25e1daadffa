export * from './ids.ts';
export * from './messages/events.ts';
export * from './messages/status.ts';
