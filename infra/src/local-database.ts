// The database a command runs against: DATABASE_URL when given, else the embedded PostgreSQL of the
// default run (persistent under HATCH_DATA_DIR), started here when it is not already running.
import { join } from 'node:path';
import pg from 'pg';
import { type RunningPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

export interface LocalDatabase {
  url: string;
  /** Stops the embedded server if this process started it. */
  stop(): Promise<void>;
  startedHere: boolean;
  /** The embedded server when this process started it (crash tests kill and restart it). */
  server?: RunningPostgres;
}

export const embeddedDefaults = () => ({
  dataDir: join(process.env.HATCH_DATA_DIR ?? '.data', 'postgres'),
  port: Number(process.env.HATCH_PG_PORT ?? 5433),
  database: process.env.HATCH_PG_DATABASE ?? 'hatch',
});

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function ensureDatabase(serverUrl: string, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * The database a command-line tool should use without starting anything: DATABASE_URL when given, else
 * the default run's embedded database when it is running (bin/start.sh started it), else null.
 */
export async function findLocalDatabase(): Promise<string | null> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const { port, database } = embeddedDefaults();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
  return (await reachable(url)) ? url : null;
}

export async function localDatabase(options: { callerHandlesSignals?: boolean } = {}): Promise<LocalDatabase> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {}, startedHere: false };
  const { dataDir, port, database } = embeddedDefaults();
  const serverUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  if (await reachable(serverUrl)) {
    return { url: await ensureDatabase(serverUrl, database), stop: async () => {}, startedHere: false };
  }
  const server = await startEmbeddedPostgres({ dataDir, port, ...options });
  return { url: await ensureDatabase(server.url, database), stop: () => server.stop(), startedHere: true, server };
}
