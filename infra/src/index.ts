export type { EmbeddedPostgresOptions, RunningPostgres } from './embedded-postgres.ts';
export { freePort, startEmbeddedPostgres } from './embedded-postgres.ts';
export type { LocalDatabase } from './local-database.ts';
export { embeddedDefaults, ensureDatabase, findLocalDatabase, localDatabase } from './local-database.ts';
