// The read pool is built where the read tables are defined; re-exported for processes that mount the routes.
export { createReadPool, type ReadPool } from '@hatch/projections';
export * from './app.ts';
export * from './config.ts';
export * from './live-streams.ts';
export * from './participant.ts';
export * from './routes.ts';
export * from './schemas.ts';
export * from './watermark.ts';
