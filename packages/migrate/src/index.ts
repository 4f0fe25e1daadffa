export { migrateUsage, needsDatabase, runMigrateCommand } from './commands.ts';
export type { MigrateOptions, MigrationHistoryRow } from './migrate.ts';
export { migrate, migrationFiles, migrationHistory, migrationsDir, pendingMigrations } from './migrate.ts';
