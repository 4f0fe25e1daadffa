// bin/smoke-production: the production build run as an operator would, then the curl smoke test against it.
//   1. a production folder like the image's: dist/ (from `pnpm build`), migrations/, and a node_modules
//      holding only the production dependencies (pnpm install --prod)
//   2. PostgreSQL started on its own (embedded, throw-away), reached by DATABASE_URL
//   3. `node dist/migrate.js up`, then every service as `node dist/<service>.js` with NODE_ENV=production
//   4. bin/test.sh against the command API; its exit code is this command's
// Service logs go to .tmp/smoke-production/logs; their tails are printed when something fails.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresEventStore } from '@hatch/event-store';
import { accountOperations } from '../../bin/account-operations.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { freeStackConfig, startLocalStack } from './local-stack.ts';
import { distDir, root, sizeOf } from './production-build.ts';

const work = join(root, '.tmp', 'smoke-production');
const app = join(work, 'app');
const logs = join(work, 'logs');
const say = (line: string) => process.stdout.write(`${line}\n`);

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The workspace manifests pnpm needs to honour the lockfile (the folders pnpm-workspace.yaml lists). */
function workspaceManifests(): string[] {
  const inFolder = (folder: string) => readdirSync(join(root, folder)).map((name) => `${folder}/${name}/package.json`);
  return [
    'package.json',
    'projections/package.json',
    'infra/package.json',
    ...inFolder('packages'),
    ...inFolder('services'),
  ].filter((path) => existsSync(join(root, path)));
}

function assembleProductionFolder() {
  if (!existsSync(join(distDir, 'command-api.js'))) throw new Error('dist/ is missing: run pnpm build first');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  for (const file of [...workspaceManifests(), 'pnpm-lock.yaml', 'pnpm-workspace.yaml'])
    cpSync(join(root, file), join(app, file));
  const install = spawnSync(
    'pnpm',
    [
      'install',
      '--prod',
      '--frozen-lockfile',
      '--prefer-offline',
      '--filter',
      'hatch-messaging',
      '--reporter',
      'silent',
    ],
    { cwd: app, stdio: 'inherit' },
  );
  if (install.status !== 0) throw new Error(`pnpm install --prod failed (exit ${install.status})`);
  cpSync(distDir, join(app, 'dist'), { recursive: true });
  cpSync(join(root, 'migrations'), join(app, 'migrations'), { recursive: true });
  say(
    `production     ready  dist ${mib(sizeOf(join(app, 'dist')))}, node_modules ${mib(sizeOf(join(app, 'node_modules')))} (production dependencies only)`,
  );
}

function printLogTails() {
  for (const file of readdirSync(logs)) {
    const lines = readFileSync(join(logs, file), 'utf8').trimEnd().split('\n').slice(-30);
    process.stderr.write(`--- ${file} (last ${lines.length} lines)\n${lines.join('\n')}\n`);
  }
}

/** The inbox is served from the files built at build time (the production process has no Vite). */
async function inboxServed(apiUrl: string): Promise<boolean> {
  const response = await fetch(`${apiUrl}/`);
  const ok = response.ok && (await response.text()).includes('<script type="module"');
  say(
    ok
      ? `ok   prebuilt inbox served at ${apiUrl}/`
      : `FAIL: ${apiUrl}/ does not serve the built inbox (${response.status})`,
  );
  return ok;
}

/** The account bin/test.sh sends as (production has no keyless local account): its senders and a key. */
async function smokeAccount(databaseUrl: string): Promise<string> {
  const store = new PostgresEventStore({ connectionString: databaseUrl });
  try {
    const ops = accountOperations({
      store,
      now: () => new Date(),
      newId: randomUUID,
      random: randomBytes,
      actor: 'operator:smoke',
    });
    const created = await ops.createAccount('Smoke', ['+12016661234', '@usehatchapp.com']);
    if (!created.ok) throw new Error(`the smoke account was not created: ${JSON.stringify(created)}`);
    say(`account        ready  Smoke (${created.value.accountId}) owns +12016661234 and @usehatchapp.com`);
    return created.value.apiKey;
  } finally {
    await store.close();
  }
}

function smokeTest(apiUrl: string, webhookSecret: string, apiKey: string): Promise<number> {
  return new Promise((resolveRun) => {
    const child = spawn('bash', [join(root, 'bin', 'test.sh')], {
      cwd: root,
      env: { ...process.env, HATCH_API_URL: apiUrl, WEBHOOK_SECRET: webhookSecret, HATCH_API_KEY: apiKey },
      stdio: 'inherit',
    });
    child.once('exit', (code) => resolveRun(code ?? 1));
  });
}

let status = 1;
assembleProductionFolder();
const postgres = await startEmbeddedPostgres({ callerHandlesSignals: true });
say(`postgres       ready  started separately on port ${postgres.port}; the services get DATABASE_URL`);
process.env.DATABASE_URL = postgres.url;
const config = await freeStackConfig();
const webhookSecret = 'smoke-production-secret';
const operatorToken = randomBytes(24).toString('hex');
try {
  const stack = await startLocalStack({
    config,
    build: { dir: app },
    env: {
      NODE_ENV: 'production',
      WEBHOOK_SECRET: webhookSecret,
      OPERATOR_TOKEN: operatorToken,
      WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
    },
    log: say,
    output: (service, chunk) => appendFileSync(join(logs, `${service}.log`), chunk),
  });
  try {
    const apiUrl = `http://127.0.0.1:${config.apiPort}`;
    status = await smokeTest(apiUrl, webhookSecret, await smokeAccount(postgres.url));
    if (status === 0 && !(await inboxServed(apiUrl))) status = 1;
  } finally {
    await stack.stop();
  }
} catch (error) {
  process.stderr.write(`smoke-production: ${error instanceof Error ? error.message : String(error)}\n`);
  status = 1;
} finally {
  await postgres.stop();
}
if (status !== 0) printLogTails();
say(status === 0 ? 'production smoke test passed' : `production smoke test FAILED (exit ${status})`);
process.exit(status);
