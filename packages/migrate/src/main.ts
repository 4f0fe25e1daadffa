// The production migrate command (`node dist/migrate.js up`): runs against DATABASE_URL and nothing else.
import { migrateUsage, needsDatabase, runMigrateCommand } from './commands.ts';

const args = process.argv.slice(2);
const databaseUrl = process.env.DATABASE_URL ?? '';
if (!databaseUrl && needsDatabase(args[0] ?? 'up')) {
  console.error(`DATABASE_URL is not set: migrate needs the database it changes\n${migrateUsage}`);
  process.exit(2);
}
try {
  process.exit(await runMigrateCommand(args, databaseUrl));
} catch (error) {
  console.error(`migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
