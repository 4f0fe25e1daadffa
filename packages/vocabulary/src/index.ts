export * from './messages.ts';
export * from './providers.ts';
export * from './read-shapes.ts';
