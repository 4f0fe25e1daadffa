// The migrate commands, shared by the production CLI (dist/migrate.js, DATABASE_URL only) and the
// development one (bin/migrate, which falls back to the embedded database).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, migrationHistory, migrationsDir, pendingMigrations } from './migrate.ts';

export const migrateUsage = 'usage: migrate <up [n] | down [n] | current | history | new <name> | check>';

/** Whether the command talks to a database (`new` only writes a file). */
export const needsDatabase = (command: string) => command !== 'new';

/** Runs one command; resolves to the process exit code. */
export async function runMigrateCommand(
  [command = 'up', arg]: string[],
  databaseUrl: string,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  switch (command) {
    case 'up':
    case 'down': {
      const names = await migrate({ databaseUrl, direction: command, ...(arg ? { count: Number(arg) } : {}) });
      out(names.length ? `${command}: ${names.join(', ')}` : `${command}: nothing to do`);
      return 0;
    }
    case 'current': {
      const history = await migrationHistory(databaseUrl);
      out(history.at(-1)?.name ?? '(none)');
      return 0;
    }
    case 'history': {
      for (const row of await migrationHistory(databaseUrl)) out(`${row.runOn.toISOString()}  ${row.name}`);
      for (const name of await pendingMigrations(databaseUrl)) out(`pending                   ${name}`);
      return 0;
    }
    case 'check': {
      const pending = await pendingMigrations(databaseUrl);
      if (pending.length) {
        err(`pending migrations: ${pending.join(', ')}`);
        return 1;
      }
      out('schema is up to date');
      return 0;
    }
    case 'new': {
      if (!arg || !/^[a-z0-9-]+$/.test(arg)) {
        err('usage: migrate new <kebab-case-name>');
        return 2;
      }
      const file = join(migrationsDir, `${Date.now()}_${arg}.sql`);
      writeFileSync(file, '-- Up Migration\n\n-- Down Migration\n');
      out(`created ${file}`);
      return 0;
    }
    default:
      err(`unknown command ${command}; ${migrateUsage}`);
      return 2;
  }
}
