// The inbox in a real browser (Debian's Chromium driven by playwright-core) against the real stack:
// PostgreSQL, command API, query API, projector, dispatcher and mock providers as child processes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@hatch/infra';
import { type RunningStack, type StackConfig, stackConfigFromEnv, startLocalStack } from '@hatch/infra/local-stack';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInboxHost } from './testing/inbox-host.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const artifacts = join(root, 'test-results', 'web-inbox');
const services = ['command-api', 'query-api', 'projector', 'dispatcher', 'mock-providers'];
const missing = services.filter((s) => !existsSync(join(root, 'services', s, 'src', 'main.ts')));

const skipReason = !existsSync(chromiumPath)
  ? `${chromiumPath} is missing (install Debian's chromium: apt-get install -y chromium)`
  : missing.length
    ? `services not built yet: ${missing.join(', ')}`
    : null;
if (skipReason) console.log(`web inbox browser tests skipped: ${skipReason}`);

const us = '+12016661234';
const contact = '+18045551234';
const rejectedRecipient = '+12015550400'; // mock SMS provider: permanent 400
const throttledRecipient = '+12015550429'; // mock SMS provider: always 429 with Retry-After
const betaNumber = '+12015557700'; // owned by a second account, created with bin/hatch
const betaContact = '+18045557711';

describe.skipIf(skipReason !== null)('web inbox in Chromium', () => {
  let db: TestDatabase;
  let stack: RunningStack;
  let config: StackConfig;
  let inboxUrl: string;
  let host: Awaited<ReturnType<typeof startInboxHost>> | undefined;
  let context: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'inbox-chromium-'));
  const stackLog: string[] = [];
  /** Every console line of the whole run: Chromium reports each CSP violation there. */
  const consoleLines: string[] = [];
  const local = (port: number) => `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    db = await createTestDatabase();
    process.env.DATABASE_URL = db.url;
    const ports = { ...stackConfigFromEnv() } as unknown as Record<string, number>;
    for (const key of Object.keys(ports)) ports[key] = await freePort();
    config = ports as unknown as StackConfig;
    // The mock providers run four servers (primary and backup per channel): every one on a free port,
    // named for both the mock providers and the dispatcher, whatever the stack runner passes itself.
    const smsBackup = await freePort();
    const emailBackup = await freePort();
    stack = await startLocalStack({
      config,
      log: (line: string) => stackLog.push(line),
      env: {
        LOG_LEVEL: 'warn',
        // Receipts a little later than the default, so the "sent" state is on screen long enough to see.
        RECEIPT_DELAY_MS: '400',
        SMS_PROVIDER_PORT: String(config.smsProviderPort),
        EMAIL_PROVIDER_PORT: String(config.emailProviderPort),
        SMS_BACKUP_PROVIDER_PORT: String(smsBackup),
        EMAIL_BACKUP_PROVIDER_PORT: String(emailBackup),
        SMS_BACKUP_PROVIDER_URL: local(smsBackup),
        EMAIL_BACKUP_PROVIDER_URL: local(emailBackup),
      },
    });

    // The inbox is served by its plugin on a pass-through host in front of the real services, so the
    // test can cut the live stream; the plugin itself is what the API server mounts.
    const api = local(config.apiPort);
    const queryMounted = await fetch(`${api}/api/conversations`).then((r) => r.status !== 404);
    host = await startInboxHost({
      commandUrl: api,
      queryUrl: queryMounted ? undefined : local(config.queryApiPort),
      operations: { dispatcherUrl: local(config.dispatcherPort), projectorUrl: local(config.projectorPort) },
    });
    inboxUrl = host.url;

    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1200, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    // Every status a message row shows, in order, so a status that is on screen only briefly is seen too.
    await page.addInitScript(() => {
      const seen: Record<string, string[]> = {};
      (window as unknown as { statusesSeen: typeof seen }).statusesSeen = seen;
      const record = () => {
        for (const row of document.querySelectorAll<HTMLElement>('li.message[data-message-id]')) {
          const id = row.dataset.messageId!;
          const list = seen[id] ?? [];
          seen[id] = list;
          if (list.at(-1) !== row.dataset.status) list.push(row.dataset.status!);
        }
      };
      const violations: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = violations;
      document.addEventListener('securitypolicyviolation', (e) =>
        violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
      const states: string[] = [];
      (window as unknown as { connectionStates: string[] }).connectionStates = states;
      const recordConnection = () => {
        const state = document.getElementById('connection')?.dataset.state;
        if (state && states.at(-1) !== state) states.push(state);
      };
      new MutationObserver(() => {
        record();
        recordConnection();
      }).observe(document, { subtree: true, childList: true, attributes: true });
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await host?.close();
    await stack?.stop();
    await db?.drop();
    rmSync(profile, { recursive: true, force: true });
  }, 60_000);

  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  const statusesSeen = (messageId: string) =>
    page.evaluate(
      (id) => (window as unknown as { statusesSeen: Record<string, string[]> }).statusesSeen[id] ?? [],
      messageId,
    );
  const row = (text: string) => page.locator('li.message', { hasText: text });

  async function compose(fields: { to: string; body: string }) {
    await page.goto(`${inboxUrl}/#/new`);
    const form = page.getByRole('form', { name: 'New message' });
    await form.getByLabel('Channel').selectOption('sms');
    await form.getByLabel('From').fill(us);
    await form.getByLabel('To').fill(fields.to);
    await form.getByLabel('Message').fill(fields.body);
    await form.getByRole('button', { name: 'Send' }).click();
  }

  it('shows the live connection', async () => {
    const started = Date.now();
    await page.goto(`${inboxUrl}/`);
    await page.locator('#connection[data-state="live"]').waitFor();
    const live = Date.now() - started;
    const loaded = await page.evaluate(() => {
      const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
      return Math.round(navigation?.domContentLoadedEventEnd ?? -1);
    });
    console.log(`web inbox: DOMContentLoaded after ${loaded} ms, stream live after ${live} ms`);
    expect(await page.locator('#connection').textContent()).toBe('Live');
  });

  it('sends an SMS and shows it turn sent, then delivered, without a reload', async () => {
    await compose({ to: contact, body: 'Hello from the browser test' });
    await page.waitForURL(/#\/c\/[0-9a-f-]{36}$/);
    const message = row('Hello from the browser test');
    await message.and(page.locator('[data-status="delivered"]')).waitFor();
    const id = (await message.getAttribute('data-message-id'))!;
    const seen = await statusesSeen(id);
    expect(seen.indexOf('sent')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('sent')).toBeLessThan(seen.indexOf('delivered'));
    expect(await message.locator('.status').textContent()).toBe('Delivered');

    await message.getByRole('button', { name: 'Status history' }).click();
    const history = message.getByRole('list', { name: 'Status history' });
    await history.waitFor();
    expect(await history.textContent()).toMatch(/Requested[\s\S]*Sent[\s\S]*Delivered/);
    await shot('conversation');
  });

  it('receives the contact’s reply from the mock provider live', async () => {
    const reply = await fetch(`${local(config.smsProviderPort)}/admin/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: contact, to: us, body: 'Thanks, got it!' }),
    });
    expect(reply.ok).toBe(true);
    const inbound = row('Thanks, got it!');
    await inbound.and(page.locator('.inbound')).waitFor();
    expect(await inbound.locator('.status').textContent()).toBe('Received');
    // The reply form addresses the contact from our number.
    const replyForm = page.getByRole('form', { name: 'Reply' });
    expect(await replyForm.getByLabel('To').inputValue()).toBe(contact);
  });

  it('lists the conversation with its last message and finds it by participant', async () => {
    const item = page.locator('li.conversation', { hasText: contact });
    await item.filter({ hasText: 'Thanks, got it!' }).waitFor();
    await page.getByLabel('Search by participant').fill('+1 804 555 1234');
    await page.locator('li.conversation').first().waitFor();
    expect(await page.locator('li.conversation').count()).toBe(1);
    await page.getByLabel('Search by participant').fill('+19999999999');
    await page.getByText('No conversation matches.').waitFor();
    await page.getByLabel('Search by participant').fill('');
    await page.locator('li.conversation').first().waitFor();
    await shot('inbox');
  });

  it('marks a conversation with a reply you have not seen, until you open it', async () => {
    await page.goto(`${inboxUrl}/#/new`);
    const item = page.locator('li.conversation', { hasText: contact });
    await item.waitFor();
    expect(await item.locator('.badge').count()).toBe(0);
    await fetch(`${local(config.smsProviderPort)}/admin/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: contact, to: us, body: 'Are you there?' }),
    });
    await item.filter({ hasText: 'Are you there?' }).locator('.badge', { hasText: 'new' }).waitFor();
    await item.getByRole('link').click();
    await row('Are you there?').waitFor();
    await page.locator('li.conversation.current').waitFor();
    expect(await item.locator('.badge').count()).toBe(0);
  });

  it('resumes the live stream after it is cut, missing nothing and showing nothing twice', async () => {
    const conversationUrl = page.url();
    // Cut the stream and refuse reconnects for a while; meanwhile a message is sent, sent and delivered.
    host!.interruptStreams(2500);
    const sent = await fetch(`${local(config.apiPort)}/api/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: us,
        to: contact,
        type: 'sms',
        body: 'Sent while the inbox was offline',
        attachments: null,
        timestamp: new Date().toISOString(),
      }),
    });
    expect(sent.status).toBe(202);
    await page.locator('#connection[data-state="offline"]').waitFor();
    const message = row('Sent while the inbox was offline');
    await message.and(page.locator('[data-status="delivered"]')).waitFor();
    await page.locator('#connection[data-state="live"]').waitFor();
    expect(page.url()).toBe(conversationUrl); // no reload, no navigation
    expect(await message.count()).toBe(1);
    expect(await page.locator('li.message').count()).toBe(4);
    const states = await page.evaluate(() => (window as unknown as { connectionStates: string[] }).connectionStates);
    expect(states).toContain('offline');
    expect(states.at(-1)).toBe('live');
  });

  it('shows why a message failed', async () => {
    await compose({ to: rejectedRecipient, body: 'This one is rejected' });
    const message = row('This one is rejected');
    await message.and(page.locator('[data-status="failed"]')).waitFor();
    // The live stream's change turns the row failed at once; the reason arrives with the message's re-read.
    await message.locator('.status', { hasText: /^Failed: .+/ }).waitFor();
    const text = (await message.locator('.status').textContent()) ?? '';
    expect(text).toMatch(/^Failed: .+/);
    await page.locator('li.conversation', { hasText: rejectedRecipient }).waitFor();
    await shot('failed');
  });

  it('shows a retrying message with its next attempt time and why', async () => {
    await compose({ to: throttledRecipient, body: 'Throttled every time' });
    const message = row('Throttled every time');
    await message.and(page.locator('[data-status="retrying"]')).waitFor();
    expect(await message.locator('.status').textContent()).toMatch(/^Retrying at \d{1,2}:\d{2}:\d{2}.* \(.+\)$/);
    await shot('retrying');
  });

  it('sends an MMS with attachments and an HTML email with a subject', async () => {
    await page.goto(`${inboxUrl}/#/new`);
    let form = page.getByRole('form', { name: 'New message' });
    await form.getByLabel('Channel').selectOption('mms');
    await form.getByLabel('From').fill(us);
    await form.getByLabel('To').fill(contact);
    await form.getByLabel('Message').fill('Two pictures');
    await form.getByLabel('Attachment URLs').fill('https://example.com/a.jpg\nhttps://example.com/b.png');
    await form.getByRole('button', { name: 'Send' }).click();
    const mms = row('Two pictures');
    await mms.and(page.locator('[data-status="delivered"]')).waitFor();
    expect(await mms.getByRole('list', { name: 'Attachments' }).getByRole('link').allTextContents()).toEqual([
      'https://example.com/a.jpg',
      'https://example.com/b.png',
    ]);

    await page.goto(`${inboxUrl}/#/new`);
    form = page.getByRole('form', { name: 'New message' });
    await form.getByLabel('Channel').selectOption('email');
    await form.getByLabel('From').fill('support@usehatchapp.com');
    await form.getByLabel('To').fill('Contact@Example.com');
    await form.getByLabel('Subject').fill('Your order');
    await form
      .getByLabel('HTML body')
      .fill('<html><body><p>Hello <b>there</b></p><script>alert(1)</script></body></html>');
    await form.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/#\/c\/[0-9a-f-]{36}$/);
    const email = row('Your order');
    await email.and(page.locator('[data-status="delivered"]')).waitFor();
    // The HTML is shown as text, never run.
    expect(await email.locator('.body').textContent()).toBe('Hello there');
    await page.locator('li.conversation', { hasText: 'contact@example.com' }).waitFor();
    expect(await page.getByRole('form', { name: 'Reply' }).getByLabel('Subject').inputValue()).toBe('Re: Your order');
    await shot('email');
  });

  it('shows the API’s validation errors beside the fields', async () => {
    await compose({ to: 'not a phone', body: '' });
    const form = page.getByRole('form', { name: 'New message' });
    const to = form.getByLabel('To');
    await form.locator('[aria-invalid="true"]').first().waitFor();
    expect(await to.getAttribute('aria-invalid')).toBe('true');
    expect((await page.locator('.field-to .field-error').textContent())?.length).toBeGreaterThan(0);
    await shot('validation');
  });

  it('shows provider health in the operations view', async () => {
    await page.goto(`${inboxUrl}/#/ops`);
    const providers = page.getByRole('table');
    await providers.locator('tr[data-provider="messaging-provider"]').waitFor();
    expect(await providers.locator('tr[data-provider="messaging-provider"] td').textContent()).toBe('closed');
    // The dispatcher samples its backlog from the schedule: a count (and the oldest's age when any is due).
    const backlog = await page.locator('dd[data-figure="dispatch-backlog"]').textContent();
    expect(backlog).not.toBe('not reported');
    expect(backlog).toMatch(/^\d+ messages? due(, oldest due \d+\.\d s ago)?$/);
    await shot('operations');
  });

  it('labels every control and works from the keyboard', async () => {
    for (const view of ['#/', '#/new', '#/ops']) {
      await page.goto(`${inboxUrl}/${view}`);
      await page.locator('input').first().waitFor();
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLInputElement>('input, select, textarea')]
          .filter((el) => !el.labels?.length && !el.getAttribute('aria-label'))
          .map((el) => el.outerHTML),
      );
      expect(unlabelled, view).toEqual([]);
    }
    await page.goto(`${inboxUrl}/#/`);
    await page.locator('li.conversation').first().waitFor();
    await page.getByLabel('Search by participant').focus();
    await page.keyboard.press('Tab'); // channel filter
    await page.keyboard.press('Tab'); // first conversation
    expect(await page.evaluate(() => document.activeElement?.closest('li.conversation') !== null)).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/c\/[0-9a-f-]{36}$/);
    // Focus moves to the conversation's heading, so a screen reader announces where it went.
    await page.locator('#conversation-heading:focus').waitFor();
  });

  it('fits a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${inboxUrl}/#/`);
    await page.locator('li.conversation').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow).toBe(false);
    await shot('phone-inbox');
    await page.locator('li.conversation a').first().click();
    await page.getByRole('link', { name: '← Conversations' }).waitFor();
    await shot('phone-conversation');
  });

  // ---- sign-in (the suite so far ran keyless as the local account, which local mode allows) ----------

  /** A second account with its own number, made the way an operator does (last line: JSON with the key). */
  function createAccount(name: string, sender: string): { accountId: string; apiKey: string } {
    const run = spawnSync(join(root, 'bin/hatch'), ['accounts', 'create', name, '--sender', sender], {
      env: { ...process.env, DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`bin/hatch failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}');
  }
  let beta: { accountId: string; apiKey: string };

  async function signIn(apiKey: string) {
    await page.goto(`${inboxUrl}/#/sign-in`);
    const form = page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('API key').fill(apiKey);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#sign-out').waitFor();
  }
  const sessionCookie = async () => (await context.cookies(inboxUrl)).find((c) => c.name === 'hatch_session');

  it('signs in with a pasted key: an HttpOnly SameSite=Strict cookie, nothing kept in storage, live and sending', async () => {
    await page.setViewportSize({ width: 1200, height: 800 });
    beta = createAccount('Beta Ltd', betaNumber);
    await page.goto(`${inboxUrl}/#/`);
    expect(await page.locator('#signed-in-as').textContent()).toBe('Local account');
    await signIn(beta.apiKey);
    expect(await page.locator('#signed-in-as').textContent()).toBe('Beta Ltd');
    const cookie = await sessionCookie();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.value).not.toContain(beta.apiKey);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).not.toContain(beta.apiKey);
    expect(await page.evaluate(() => document.cookie)).not.toContain('hatch_session'); // HttpOnly
    // The live stream is authorised by the cookie; a send made with it is the account's.
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.goto(`${inboxUrl}/#/new`);
    const form = page.getByRole('form', { name: 'New message' });
    await form.getByLabel('Channel').selectOption('sms');
    await form.getByLabel('From').fill(betaNumber);
    await form.getByLabel('To').fill(betaContact);
    await form.getByLabel('Message').fill('Hello from Beta');
    await form.getByRole('button', { name: 'Send' }).click();
    await row('Hello from Beta').and(page.locator('[data-status="delivered"]')).waitFor();
    // Sending from the local account's number is refused for Beta: it owns only its own.
    await compose({ to: betaContact, body: 'Not my number' });
    const refused = page
      .getByRole('form', { name: 'New message' })
      .locator('.form-error:not([hidden]), .field-error:not([hidden])')
      .filter({ hasText: /\S/ })
      .first();
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/own|sender/i);
    await shot('signed-in');
  });

  it('one account’s inbox never shows another’s conversation', async () => {
    if ((await page.locator('#signed-in-as').textContent()) !== 'Beta Ltd') await signIn(beta.apiKey);
    await page.goto(`${inboxUrl}/#/`);
    await page.locator('li.conversation', { hasText: betaContact }).waitFor();
    await page.locator('#connection[data-state="live"]').waitFor();
    // The local account's contact writes in meanwhile: Beta's list, live or reloaded, never shows it.
    await fetch(`${local(config.smsProviderPort)}/admin/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: contact, to: us, body: 'For the local account only' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await page.reload();
    await page.locator('li.conversation', { hasText: betaContact }).waitFor();
    const listed = await page.locator('li.conversation').allTextContents();
    expect(listed.join('\n')).not.toContain(contact);
    expect(listed.join('\n')).not.toContain('For the local account only');
    // The API answers the same with Beta's cookie: nothing of the local account's.
    const seen = await page.evaluate(async () => (await fetch('/api/conversations')).text());
    expect(seen).not.toContain(contact);
  });

  it('signs out: the cookie is gone and the inbox is the local account’s again', async () => {
    if ((await page.locator('#signed-in-as').textContent()) !== 'Beta Ltd') await signIn(beta.apiKey);
    await page.locator('#sign-out').click();
    await page.locator('#sign-in-link').waitFor();
    expect(await page.locator('#signed-in-as').textContent()).toBe('Local account');
    expect(await sessionCookie()).toBeUndefined();
    expect(await page.evaluate(async () => (await fetch('/api/session')).status)).toBe(401);
    await page.locator('li.conversation', { hasText: contact }).waitFor();
    // A bad key says so beside the field and signs nobody in.
    await page.goto(`${inboxUrl}/#/sign-in`);
    await page.getByLabel('API key').fill(`hk_live_${'x'.repeat(40)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#sign-in-error', { hasText: 'That key is unknown or revoked.' }).waitFor();
    expect(await sessionCookie()).toBeUndefined();
  });

  it('runs under its Content-Security-Policy with no violation reported during the whole suite', async () => {
    await page.goto('about:blank');
    const answer = await page.goto(`${inboxUrl}/#/`);
    const csp = (await answer?.allHeaders())?.['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect((await answer?.allHeaders())?.['x-content-type-options']).toBe('nosniff');
    await page.locator('#connection[data-state="live"]').waitFor();
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    expect(consoleLines.filter((line) => /Content Security Policy|Refused to/i.test(line))).toEqual([]);
  });
});
