export * from './config.ts';
export * from './metrics.ts';
export * from './projector.ts';
