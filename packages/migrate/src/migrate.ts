// Versioned SQL migrations (node-pg-migrate, files in /migrations with `-- Up Migration` / `-- Down Migration`).
// Services never create schema: this is the only code path that changes it.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

// The production build (bin/build) sets HATCH_BUILD at bundle time: dist/migrate.js sits one level below the
// repository root, this source file three.
const here = dirname(fileURLToPath(import.meta.url));
export const migrationsDir =
  process.env.HATCH_BUILD === 'production'
    ? join(here, '..', 'migrations')
    : join(here, '..', '..', '..', 'migrations');
const migrationsTable = 'schema_migrations';

export interface MigrateOptions {
  databaseUrl: string;
  direction?: 'up' | 'down';
  /** How many to apply (up: all by default; down: one by default). */
  count?: number;
  log?: (line: string) => void;
}

export async function migrate({ databaseUrl, direction = 'up', count, log }: MigrateOptions) {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    migrationsTable,
    direction,
    count: count ?? (direction === 'up' ? Number.POSITIVE_INFINITY : 1),
    checkOrder: true,
    singleTransaction: true,
    log: log ?? (() => {}),
    logger: log ? undefined : { debug: () => {}, info: () => {}, warn: () => {}, error: console.error },
  });
  return applied.map((m) => m.name);
}

export function migrationFiles(): string[] {
  return readdirSync(migrationsDir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => f.replace(/\.sql$/, ''));
}

export interface MigrationHistoryRow {
  name: string;
  runOn: Date;
}

export async function migrationHistory(databaseUrl: string): Promise<MigrationHistoryRow[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const exists = await client.query(`SELECT to_regclass('public.${migrationsTable}') IS NOT NULL AS ok`);
    if (!exists.rows[0].ok) return [];
    const { rows } = await client.query(`SELECT name, run_on FROM ${migrationsTable} ORDER BY run_on, id`);
    return rows.map((r) => ({ name: r.name, runOn: r.run_on }));
  } finally {
    await client.end();
  }
}

export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const done = new Set((await migrationHistory(databaseUrl)).map((r) => r.name));
  return migrationFiles().filter((f) => !done.has(f));
}
