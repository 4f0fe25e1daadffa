// pnpm migrate <up [n] | down [n] | current | history | new <name> | check>
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localDatabase } from './local-database.ts';
import { migrate, migrationHistory, migrationsDir, pendingMigrations } from './migrate.ts';

const [command = 'up', arg] = process.argv.slice(2);
// DATABASE_URL, else the embedded database of the default run (started for the command if needed).
const database = command === 'new' ? null : await localDatabase();
const url = database?.url ?? '';

switch (command) {
  case 'up':
  case 'down': {
    const names = await migrate({
      databaseUrl: url,
      direction: command,
      ...(arg ? { count: Number(arg) } : {}),
    });
    console.log(names.length ? `${command}: ${names.join(', ')}` : `${command}: nothing to do`);
    break;
  }
  case 'current': {
    const history = await migrationHistory(url);
    console.log(history.at(-1)?.name ?? '(none)');
    break;
  }
  case 'history': {
    const history = await migrationHistory(url);
    for (const row of history) console.log(`${row.runOn.toISOString()}  ${row.name}`);
    const pending = await pendingMigrations(url);
    for (const name of pending) console.log(`pending                   ${name}`);
    break;
  }
  case 'check': {
    const pending = await pendingMigrations(url);
    if (pending.length) {
      console.error(`pending migrations: ${pending.join(', ')}`);
      await database?.stop();
      process.exit(1);
    }
    console.log('schema is up to date');
    break;
  }
  case 'new': {
    if (!arg || !/^[a-z0-9-]+$/.test(arg)) {
      console.error('usage: migrate new <kebab-case-name>');
      process.exit(2);
    }
    const file = join(migrationsDir, `${Date.now()}_${arg}.sql`);
    writeFileSync(file, '-- Up Migration\n\n-- Down Migration\n');
    console.log(`created ${file}`);
    break;
  }
  default:
    console.error(`unknown command ${command}; use up | down | current | history | new | check`);
    await database?.stop();
    process.exit(2);
}
await database?.stop();
process.exit(0);
