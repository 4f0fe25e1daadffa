// vitest global setup: one real PostgreSQL for the whole run (DATABASE_URL if given, else embedded),
// and a migrated template database that each test file clones into its own database.
import { startEmbeddedPostgres } from '@hatch/infra';
import { migrate } from '@hatch/migrate';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { databaseUrlFor } from './database-url.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.DATABASE_URL;
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  if (adminUrl) {
    process.stdout.write(`tests use PostgreSQL at DATABASE_URL\n`);
  } else {
    embedded = await startEmbeddedPostgres({ maxConnections: 400 });
    adminUrl = embedded.url;
    process.stdout.write(`tests use embedded PostgreSQL on port ${embedded.port}\n`);
  }
  const templateDatabase = `hatch_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase}`);
  await admin.query(`CREATE DATABASE ${templateDatabase}`);
  await migrate({ databaseUrl: databaseUrlFor(adminUrl, templateDatabase) });
  await admin.end();

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    if (embedded) {
      await embedded.stop();
      return;
    }
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    const { rows } = await cleanup.query(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE 'hatch_test_%'`,
      [templateDatabase],
    );
    for (const row of rows) await cleanup.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    await cleanup.end();
  };
}
