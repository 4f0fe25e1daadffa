// Test plumbing for end-to-end suites: the services as real processes (through the one launcher,
// @hatch/infra/service-process) against a real PostgreSQL, small HTTP helpers, and MessageRequested events
// appended straight to the log (the command API is not needed to exercise dispatch). A subpath of its own,
// so a unit spec importing @hatch/testing pulls no process code.
import { messageStreamId } from '@hatch/domain';
import type { EventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { type ServiceProcess, serviceEntry, startServiceProcess } from '@hatch/infra/service-process';
import { messageRequested, newMessageEvent } from './events.ts';

export type { ServiceProcess } from '@hatch/infra/service-process';

export type HatchService = 'dispatcher' | 'mock-providers' | 'command-api' | 'projector' | 'query-api' | 'notifier';

/** A service's source entry (main.ts unless told) as a process; output captured (see `tail()`). */
export function spawnService(service: HatchService, env: Record<string, string>, entry = 'main.ts'): ServiceProcess {
  // e.g. HATCH_SPAWN_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the spawned services.
  const nodeArgs = (process.env.HATCH_SPAWN_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startServiceProcess({ entry: serviceEntry(service, entry), nodeArgs, env: { LOG_LEVEL: 'warn', ...env } });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export const getJson = async <T = unknown>(url: string): Promise<T> => {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
};

export const postJson = async (url: string, body: unknown) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
};

export interface MockProviders {
  urls: { sms: string; smsBackup: string; email: string; emailBackup: string };
  process: ServiceProcess;
}

export async function startMockProviders(env: Record<string, string> = {}): Promise<MockProviders> {
  const [sms, email, smsBackup, emailBackup] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const process = spawnService('mock-providers', {
    SMS_PROVIDER_PORT: String(sms),
    EMAIL_PROVIDER_PORT: String(email),
    SMS_BACKUP_PROVIDER_PORT: String(smsBackup),
    EMAIL_BACKUP_PROVIDER_PORT: String(emailBackup),
    RECEIPTS_ENABLED: 'false',
    ...env,
  });
  const urls = {
    sms: `http://127.0.0.1:${sms}`,
    email: `http://127.0.0.1:${email}`,
    smsBackup: `http://127.0.0.1:${smsBackup}`,
    emailBackup: `http://127.0.0.1:${emailBackup}`,
  };
  await waitFor(
    async () => (await Promise.all(Object.values(urls).map((u) => fetch(`${u}/health`)))).every((r) => r.ok),
    20_000,
    `mock providers to listen (${process.tail()})`,
  );
  return { urls, process };
}

export interface DispatcherProcess {
  url: string;
  process: ServiceProcess;
}

export async function startDispatcher(
  databaseUrl: string,
  providers: MockProviders,
  env: Record<string, string> = {},
): Promise<DispatcherProcess> {
  const port = await freePort();
  const process = spawnService('dispatcher', {
    DATABASE_URL: databaseUrl,
    DISPATCHER_PORT: String(port),
    SMS_PROVIDER_URL: providers.urls.sms,
    SMS_BACKUP_PROVIDER_URL: providers.urls.smsBackup,
    EMAIL_PROVIDER_URL: providers.urls.email,
    EMAIL_BACKUP_PROVIDER_URL: providers.urls.emailBackup,
    PROVIDER_TIMEOUT_MS: '1000',
    DISPATCH_LEASE_MS: '2500',
    DISPATCH_POLL_MS: '50',
    RETRY_BASE_DELAY_MS: '20',
    RETRY_MAX_DELAY_MS: '200',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/ready`)).ok, 20_000, `dispatcher to be ready (${process.tail()})`);
  return { url, process };
}

export interface CommandApiProcess {
  url: string;
  process: ServiceProcess;
}

/** The command API as a process (the providers' webhooks post to it). */
export async function startCommandApi(
  databaseUrl: string,
  env: Record<string, string> = {},
  port?: number,
): Promise<CommandApiProcess> {
  const apiPort = port ?? (await freePort());
  const process = spawnService('command-api', {
    DATABASE_URL: databaseUrl,
    API_PORT: String(apiPort),
    API_HOST: '127.0.0.1',
    ...env,
  });
  const url = `http://127.0.0.1:${apiPort}`;
  await waitFor(async () => (await fetch(`${url}/ready`)).ok, 20_000, `command API (${process.tail()})`);
  return { url, process };
}

/** Appends one MessageRequested per recipient, as the command side would; returns the message ids. */
export async function requestMessages(
  store: EventStore,
  recipients: Array<{ channel: 'sms' | 'mms' | 'email'; to: string }>,
  options: { sendAt?: string; clientId?: string } = {},
): Promise<string[]> {
  return Promise.all(
    recipients.map(async ({ channel, to }) => {
      const data = messageRequested({
        channel,
        to,
        body: 'hello from the dispatcher suite',
        clientId: options.clientId ?? 'suite',
        ...(options.sendAt ? { sendAt: options.sendAt } : {}),
      });
      await store.append(messageStreamId(data.messageId), [newMessageEvent('MessageRequested', data)], 'no_stream');
      return data.messageId;
    }),
  );
}

export const phone = (i: number) => `+1201555${String(2000 + i).padStart(4, '0')}`;

export interface NotifierProcess {
  url: string;
  process: ServiceProcess;
}

/** The notifier as a process, on a short retry schedule (tests run in seconds, not a day). */
export async function startNotifier(databaseUrl: string, env: Record<string, string> = {}): Promise<NotifierProcess> {
  const port = await freePort();
  const process = spawnService('notifier', {
    DATABASE_URL: databaseUrl,
    NOTIFIER_PORT: String(port),
    WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
    WEBHOOK_TIMEOUT_MS: '2000',
    WEBHOOK_LEASE_MS: '3000',
    WEBHOOK_POLL_MS: '50',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/ready`)).ok, 20_000, `notifier to be ready (${process.tail()})`);
  return { url, process };
}
