// `tsx infra/src/postgres-cli.ts [dataDir]`: runs embedded PostgreSQL in the foreground until Ctrl-C.
import { startEmbeddedPostgres } from './embedded-postgres.ts';

const dataDir = process.argv[2] ?? process.env.PGDATA_DIR ?? '.data/postgres';
const port = Number(process.env.PGPORT ?? 5433);
const pg = await startEmbeddedPostgres({ dataDir, port });
process.stdout.write(`PostgreSQL ready: ${pg.url} (data in ${pg.dataDir})\n`);
const stop = async () => {
  await pg.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
