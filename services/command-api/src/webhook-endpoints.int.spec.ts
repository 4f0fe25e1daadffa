// /api/webhook-endpoints on real PostgreSQL: the secret shown once, changes as events, another account's
// endpoint answering exactly like an unknown one, https only in production, and the OpenAPI webhooks section.
import { randomBytes, randomUUID } from 'node:crypto';
import { webhookEndpointStreamId, webhookEventTypes } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger, SecretBox, secretKeyId } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';
import { createCommandApi } from './app.ts';
import { type CommandApiConfig, defaultCommandApiConfig } from './config.ts';

const silent = createLogger('webhook-endpoints-test', { level: 'silent' });
let db: TestDatabase;
let store: PostgresEventStore;
let pool: pg.Pool;
const apps: Awaited<ReturnType<typeof createCommandApi>>[] = [];

async function api(config: Partial<CommandApiConfig> = {}) {
  const app = await createCommandApi({
    eventStore: store,
    clock: { now: () => new Date() },
    logger: silent,
    config: defaultCommandApiConfig(config),
    webhookDeliveries: pool,
  });
  apps.push(app);
  await app.ready();
  return app;
}

async function keyFor(name: string) {
  const ops = accountOperations({
    store,
    now: () => new Date(),
    newId: randomUUID,
    random: randomBytes,
    actor: 'operator:test',
  });
  const created = await ops.createAccount(name, []);
  if (!created.ok) throw new Error('account not created');
  return { authorization: `Bearer ${created.value.apiKey}` };
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await pool.end();
  await store.close();
  await db.drop();
});

describe('webhook endpoints', () => {
  it('registers, lists, changes, rotates and deletes an endpoint, all as events', async () => {
    const app = await api();
    const created = await app.inject({
      method: 'POST',
      url: '/api/webhook-endpoints',
      payload: { url: 'http://127.0.0.1:9/hook', events: ['message.delivered'] },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({ url: 'http://127.0.0.1:9/hook', events: ['message.delivered'], enabled: true });
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(body.secret.slice(6), 'base64')).toHaveLength(24);

    const listed = (await app.inject({ url: '/api/webhook-endpoints' })).json();
    expect(listed.data.map((e: { id: string }) => e.id)).toContain(body.id);
    expect(JSON.stringify(listed)).not.toContain(body.secret);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/webhook-endpoints/${body.id}`,
      payload: { events: null, enabled: false },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ events: null, enabled: false });

    const rotated = (
      await app.inject({ method: 'POST', url: `/api/webhook-endpoints/${body.id}/rotate-secret` })
    ).json();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(body.secret);

    expect((await app.inject({ method: 'DELETE', url: `/api/webhook-endpoints/${body.id}` })).statusCode).toBe(204);
    expect((await app.inject({ url: `/api/webhook-endpoints/${body.id}` })).statusCode).toBe(404);
    const types = (await store.readStream(webhookEndpointStreamId(body.id))).map((e) => e.type);
    expect(types).toEqual([
      'WebhookEndpointCreated',
      'WebhookEndpointUpdated',
      'WebhookEndpointSecretRotated',
      'WebhookEndpointDeleted',
    ]);
  });

  it('keeps the secret sealed in the log (AES-256-GCM, key id, bound to the endpoint); a rotated-out key still opens it', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const app = await api({ webhookSecrets: { box: new SecretBox(oldKey), development: false } });
    const body = (
      await app.inject({ method: 'POST', url: '/api/webhook-endpoints', payload: { url: 'http://127.0.0.1:9/hook' } })
    ).json();
    const rotator = await api({ webhookSecrets: { box: new SecretBox(newKey, [oldKey]), development: false } });
    const rotated = (
      await rotator.inject({ method: 'POST', url: `/api/webhook-endpoints/${body.id}/rotate-secret` })
    ).json();
    // Nowhere in the stored log, as bytes: neither secret, nor their key material.
    const raw = (await pool.query('SELECT data::text AS data FROM events')).rows.map((r) => String(r.data)).join('\n');
    for (const secret of [body.secret, rotated.secret]) {
      expect(raw).not.toContain(secret);
      expect(raw).not.toContain(secret.slice(6));
    }
    const stream = await store.readStream(webhookEndpointStreamId(body.id));
    const [created] = stream;
    const sealed = stream.map((e) => (e.data as { secret: string }).secret);
    expect(created?.type).toBe('WebhookEndpointCreated');
    expect(sealed[0]).toMatch(new RegExp(`^whenc_v1\\.${secretKeyId(oldKey)}\\.`));
    expect(sealed[1]).toMatch(new RegExp(`^whenc_v1\\.${secretKeyId(newKey)}\\.`));
    // The notifier's box (current key + the previous one) opens both; the new key alone cannot open the first.
    const notifier = new SecretBox(newKey, [oldKey]);
    expect(notifier.open(sealed[0] as string, body.id)).toBe(body.secret);
    expect(notifier.open(sealed[1] as string, body.id)).toBe(rotated.secret);
    expect(() => new SecretBox(newKey).open(sealed[0] as string, body.id)).toThrow(/WEBHOOK_SECRETS_KEY_PREVIOUS/);
    // Bound to its endpoint: copied onto another endpoint it does not open.
    expect(() => notifier.open(sealed[0] as string, randomUUID())).toThrow();
  });

  it("answers another account's endpoint exactly like an unknown one", async () => {
    const app = await api();
    const [a, b] = [await keyFor('Webhook A'), await keyFor('Webhook B')];
    const created = await app.inject({
      method: 'POST',
      url: '/api/webhook-endpoints',
      headers: a,
      payload: { url: 'https://example.com/a' },
    });
    const id = created.json().id as string;
    const unknown = randomUUID();
    const attempt = randomUUID();
    const calls = (target: string) => [
      { method: 'GET' as const, url: `/api/webhook-endpoints/${target}` },
      { method: 'PATCH' as const, url: `/api/webhook-endpoints/${target}`, payload: { enabled: false } },
      { method: 'DELETE' as const, url: `/api/webhook-endpoints/${target}` },
      { method: 'POST' as const, url: `/api/webhook-endpoints/${target}/rotate-secret` },
      { method: 'GET' as const, url: `/api/webhook-endpoints/${target}/attempts` },
      { method: 'POST' as const, url: `/api/webhook-endpoints/${target}/attempts/${attempt}/retry` },
      {
        method: 'POST' as const,
        url: `/api/webhook-endpoints/${target}/replay`,
        payload: { since: '2020-01-01T00:00:00Z' },
      },
    ];
    for (const [theirs, none] of calls(id).map((c, i) => [c, calls(unknown)[i]] as const)) {
      const other = await app.inject({ ...theirs, headers: b });
      const missing = await app.inject({ ...none!, headers: b });
      expect(other.statusCode, `${theirs.method} ${theirs.url}`).toBe(404);
      expect(other.json().detail).toBe(missing.json().detail);
    }
    expect((await app.inject({ url: '/api/webhook-endpoints', headers: b })).json().data).toEqual([]);
    // Still A's, unchanged.
    expect((await app.inject({ url: `/api/webhook-endpoints/${id}`, headers: a })).json()).toMatchObject({
      enabled: true,
    });
    expect(await store.readStream(webhookEndpointStreamId(id))).toHaveLength(1);
  });

  it('refuses bad input with problem+json and appends nothing', async () => {
    const app = await api();
    for (const payload of [
      { url: 'ftp://example.com/x' },
      { url: 'not a url' },
      { url: 'https://user:pw@example.com/x' },
      { url: 'https://example.com/a\u0000b' },
      { url: 'https://example.com/a b' },
      { url: 'https://example.com/x', events: ['message.exploded'] },
      { url: 'https://example.com/x', extra: true },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/api/webhook-endpoints', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const id = (
      await app.inject({ method: 'POST', url: '/api/webhook-endpoints', payload: { url: 'https://example.com/y' } })
    ).json().id;
    const badSince = await app.inject({
      method: 'POST',
      url: `/api/webhook-endpoints/${id}/replay`,
      payload: { since: 'yesterday' },
    });
    expect(badSince.statusCode).toBe(400);
    expect(await store.readStream(webhookEndpointStreamId(id))).toHaveLength(1);
  });

  it('accepts only https in production mode', async () => {
    const app = await api({ production: true, operatorToken: 'operator-token-0123456789' });
    const key = await keyFor('Webhook prod');
    const http = await app.inject({
      method: 'POST',
      url: '/api/webhook-endpoints',
      headers: key,
      payload: { url: 'http://example.com/x' },
    });
    expect(http.statusCode).toBe(400);
    expect(http.json().errors).toEqual([{ field: 'body.url', message: 'must use https in production mode' }]);
    const keyless = await app.inject({
      method: 'POST',
      url: '/api/webhook-endpoints',
      payload: { url: 'https://example.com/x' },
    });
    expect(keyless.statusCode).toBe(401);
    const https = await app.inject({
      method: 'POST',
      url: '/api/webhook-endpoints',
      headers: key,
      payload: { url: 'https://example.com/x' },
    });
    expect(https.statusCode).toBe(201);
  });

  it('documents the routes and every event type in the OpenAPI webhooks section', async () => {
    const app = await api();
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/webhook-endpoints',
        '/api/webhook-endpoints/{id}',
        '/api/webhook-endpoints/{id}/rotate-secret',
        '/api/webhook-endpoints/{id}/attempts',
        '/api/webhook-endpoints/{id}/attempts/{attemptId}/retry',
        '/api/webhook-endpoints/{id}/replay',
      ]),
    );
    expect(Object.keys(doc.webhooks).sort()).toEqual([...webhookEventTypes].sort());
    expect(
      doc.webhooks['message.delivered'].post.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('data');
  });
});
