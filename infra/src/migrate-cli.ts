// bin/migrate (development): DATABASE_URL, else the embedded database of the default run (started for the
// command if needed). Production runs `node dist/migrate.js`, which needs DATABASE_URL.
import { needsDatabase, runMigrateCommand } from '@hatch/migrate';
import { localDatabase } from './local-database.ts';

const args = process.argv.slice(2);
const database = needsDatabase(args[0] ?? 'up') ? await localDatabase() : null;
let code: number;
try {
  code = await runMigrateCommand(args, database?.url ?? '');
} finally {
  await database?.stop();
}
process.exit(code);
