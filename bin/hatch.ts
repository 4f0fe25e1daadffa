// bin/hatch: the operator's command for accounts, their senders and API keys (see docs/accounts.md).
// Appends through the event-log port chosen by EVENT_STORE, against DATABASE_URL / EVENTSTORE_URL, else the
// embedded database of the local stack. Exit codes: 0 ok, 1 refused, 2 usage error, 3 failure.
import { randomBytes, randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { AccountState } from '@hatch/domain';
import { createEventStore, type EventStore, eventStoreConfigSchema } from '@hatch/event-store';
import { accountOperations, type Outcome, type Refusal } from './account-operations.ts';

const usage = `usage: bin/hatch <command> [options]   (bin/hatch <command> --help for one command)
  accounts create NAME [--sender SENDER]...   a new account and its first API key
  accounts list [--json]                      every account, its senders and keys
  senders add ACCOUNT SENDER                  the account may send from SENDER (owned by one account only)
  senders remove ACCOUNT SENDER
  keys issue ACCOUNT [--name NAME]            a new API key, shown once
  keys revoke ACCOUNT KEY_ID
ACCOUNT is an account id, or a name that only one account has.
SENDER is a phone number (+12016661234), an email address (user@example.com) or a whole domain (@example.com).
Runs against DATABASE_URL (or EVENTSTORE_URL with EVENT_STORE=eventstoredb), else the local stack's database.
Exit codes: 0 ok, 1 refused (e.g. a sender another account owns), 2 usage error, 3 failure.`;

type Ops = ReturnType<typeof accountOperations>;
type Parsed = { positionals: string[]; values: Record<string, string | boolean | string[] | undefined> };

interface Command {
  synopsis: string;
  about: string;
  positionals: string[];
  options?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  run(ops: Ops, args: Parsed): Promise<number>;
}

class UsageError extends Error {}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Prints a refusal; `invalid` input is a usage error (2), anything else a refused operation (1). */
function refused(refusal: Refusal): number {
  if (refusal.reason === 'invalid') {
    for (const e of refusal.errors) process.stderr.write(`error: ${e.field}: ${e.message}\n`);
    return 2;
  }
  const owner = refusal.reason === 'sender_taken' ? ` (owned by account ${refusal.ownedBy})` : '';
  process.stderr.write(`refused: ${refusal.detail}${owner}\n`);
  return 1;
}

async function withAccount(ops: Ops, ref: string, then: (account: AccountState) => Promise<number>) {
  const found = await ops.findAccount(ref);
  return found.ok ? then(found.value) : refused(found);
}

const done = <T>(outcome: Outcome<T>, report: (value: T) => void) => {
  if (!outcome.ok) return refused(outcome);
  report(outcome.value);
  return 0;
};

const commands: Record<string, Command> = {
  'accounts create': {
    synopsis: 'accounts create NAME [--sender SENDER]...',
    about: `Creates an account owning the given senders, with a first API key named "default".
The key is shown once: the last line of the output is JSON {"accountId":"…","apiKey":"…"}.`,
    positionals: ['NAME'],
    options: { sender: { type: 'string', multiple: true } },
    run: async (ops, { positionals: [name], values }) =>
      done(await ops.createAccount(name as string, (values.sender as string[] | undefined) ?? []), (v) => {
        out(`created account ${name} (${v.accountId})`);
        for (const s of v.senders) out(`  sender ${s}`);
        out(`  API key "default" (${v.keyId}); it is shown only now:`);
        out(JSON.stringify({ accountId: v.accountId, apiKey: v.apiKey }));
      }),
  },
  'accounts list': {
    synopsis: 'accounts list [--json]',
    about: 'Lists every account with its senders and keys (prefixes only; keys are never stored).',
    positionals: [],
    options: { json: { type: 'boolean' } },
    async run(ops, { values }) {
      const accounts = await ops.listAccounts();
      if (values.json) {
        out(
          JSON.stringify(
            accounts.map(({ version: _v, ...a }) => ({
              ...a,
              apiKeys: Object.values(a.apiKeys).map(({ keyHash: _h, ...k }) => k),
            })),
          ),
        );
        return 0;
      }
      if (accounts.length === 0) out('no accounts (create one with bin/hatch accounts create NAME)');
      for (const a of accounts) {
        out(`${a.accountId}  ${a.name}  created ${a.createdAt}`);
        for (const [sender, kind] of Object.entries(a.senders)) out(`  sender ${sender} (${kind})`);
        for (const k of Object.values(a.apiKeys))
          out(`  key    ${k.keyId} ${k.prefix}… "${k.name}" ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}`);
      }
      return 0;
    },
  },
  'senders add': {
    synopsis: 'senders add ACCOUNT SENDER',
    about:
      'Lets the account send from SENDER. A sender belongs to one account: one another account owns is refused (exit 1).',
    positionals: ['ACCOUNT', 'SENDER'],
    run: (ops, { positionals: [ref, sender] }) =>
      withAccount(ops, ref as string, async (a) =>
        done(await ops.addSender(a.accountId, sender as string), (v) =>
          out(v.added ? `${a.name} now owns ${v.sender}` : `${a.name} already owns ${v.sender}`),
        ),
      ),
  },
  'senders remove': {
    synopsis: 'senders remove ACCOUNT SENDER',
    about: 'The account no longer owns SENDER; another account may then add it.',
    positionals: ['ACCOUNT', 'SENDER'],
    run: (ops, { positionals: [ref, sender] }) =>
      withAccount(ops, ref as string, async (a) =>
        done(await ops.removeSender(a.accountId, sender as string), (v) => out(`${a.name} no longer owns ${v.sender}`)),
      ),
  },
  'keys issue': {
    synopsis: 'keys issue ACCOUNT [--name NAME]',
    about: `Issues a new API key (default name "default"). It is shown once: the last line of the output is
JSON {"accountId":"…","keyId":"…","apiKey":"…"}.`,
    positionals: ['ACCOUNT'],
    options: { name: { type: 'string' } },
    run: (ops, { positionals: [ref], values }) =>
      withAccount(ops, ref as string, async (a) =>
        done(await ops.issueKey(a.accountId, (values.name as string | undefined) ?? 'default'), (v) => {
          out(`issued key ${v.keyId} (${v.prefix}…) for ${a.name}; it is shown only now:`);
          out(JSON.stringify({ accountId: a.accountId, keyId: v.keyId, apiKey: v.apiKey }));
        }),
      ),
  },
  'keys revoke': {
    synopsis: 'keys revoke ACCOUNT KEY_ID',
    about: 'Revokes a key: requests carrying it are refused from then on.',
    positionals: ['ACCOUNT', 'KEY_ID'],
    run: (ops, { positionals: [ref, keyId] }) =>
      withAccount(ops, ref as string, async (a) =>
        done(await ops.revokeKey(a.accountId, (keyId as string).toLowerCase()), (v) =>
          out(v.revoked ? `revoked key ${keyId}` : `key ${keyId} was already revoked`),
        ),
      ),
  },
};

function parseCommand(argv: string[]): { command: Command; args: Parsed } | 'help' {
  const [group, action, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') return 'help';
  const name = `${group} ${action ?? ''}`.trim();
  const command = commands[name];
  if (!command) {
    const actions = Object.keys(commands).filter((c) => c.startsWith(`${group} `));
    if (actions.length && (action === undefined || action === '--help')) return 'help';
    throw new UsageError(`unknown command: ${name}`);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(
      `${name}: ${error instanceof Error ? error.message : String(error)}\nusage: bin/hatch ${command.synopsis}`,
    );
  }
  if (parsed.values.help) {
    out(`usage: bin/hatch ${command.synopsis}\n${command.about}`);
    process.exit(0);
  }
  if (parsed.positionals.length !== command.positionals.length)
    throw new UsageError(
      `${name} takes ${command.positionals.join(' ') || 'no arguments'}\nusage: bin/hatch ${command.synopsis}`,
    );
  return { command, args: parsed as Parsed };
}

/** The configured log; with EVENT_STORE=postgres and no DATABASE_URL, the local stack's database. */
async function openStore(): Promise<{ store: EventStore; stop: () => Promise<void> }> {
  const env = { ...process.env };
  let stop = async () => {};
  if ((env.EVENT_STORE ?? 'postgres') === 'postgres' && !env.DATABASE_URL) {
    // Imported only here: the embedded database is development infrastructure.
    const { localDatabase } = await import('@hatch/infra');
    const database = await localDatabase();
    env.DATABASE_URL = database.url;
    stop = () => database.stop();
  }
  const config = eventStoreConfigSchema.safeParse(env);
  if (!config.success) throw new UsageError(config.error.issues.map((i) => i.message).join('; '));
  return { store: createEventStore(config.data), stop };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCommand>;
  try {
    parsed = parseCommand(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n(bin/hatch --help lists the commands)\n`);
    return 2;
  }
  if (parsed === 'help') {
    out(usage);
    return 0;
  }
  const { store, stop } = await openStore();
  try {
    const ops = accountOperations({
      store,
      now: () => new Date(),
      newId: randomUUID,
      random: randomBytes,
      actor: `operator:${userInfo().username}`,
    });
    return await parsed.command.run(ops, parsed.args);
  } finally {
    await store.close();
    await stop();
  }
}

// process.exit, not exitCode: the embedded database's exit hook would otherwise end the process with 0.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const hint = /relation "events" does not exist/.test(message) ? ' (run bin/migrate up first)' : '';
    process.stderr.write(`hatch failed: ${message}${hint}\n`);
    process.exit(error instanceof UsageError ? 2 : 3);
  },
);
