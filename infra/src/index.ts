export type { EmbeddedPostgresOptions, RunningPostgres } from './embedded-postgres.ts';
export { freePort, startEmbeddedPostgres } from './embedded-postgres.ts';
export type { LocalDatabase } from './local-database.ts';
export { embeddedDefaults, ensureDatabase, localDatabase } from './local-database.ts';
