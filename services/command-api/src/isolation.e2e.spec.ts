// Accounts are separate on every route. The routes come from the running API's own OpenAPI document, so a
// route added later is checked too, or fails this spec until it is given a fixture below. Two accounts on
// one stack (command API with the query routes, projector, real PostgreSQL): account A, with its own key,
// tries every route on account B's ids and must get exactly the answer an id that does not exist gets;
// listings, searches and live streams must never carry B's data; and afterwards B's data is unchanged.
import { randomBytes, randomUUID } from 'node:crypto';
import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type CommandApiProcess,
  type ServiceProcess,
  spawnService,
  startCommandApi,
  waitFor,
} from '@hatch/testing/processes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  params: string[];
  query: string[];
  hasBody: boolean;
}

const acme = { phone: '+12015550101', email: 'alerts@acme.example' };
const beta = { phone: '+12015550202', emailDomain: '@beta.example', email: 'news@beta.example' };
/** Writes to both accounts: a conversation in each, never one shared. */
const sharedContact = '+18045550199';
/** Known only to account B. */
const betaOnly = { contactPhone: '+18045550177', email: 'pat@customer.example', name: 'Beta Customer' };

/** Routes that hold no account data, and why. Anything else in the document is checked. */
const outsideAccounts: Array<[RegExp, string]> = [
  [/^\/(health|ready|metrics|openapi\.json)$/, 'operations endpoints (metrics are operator-guarded)'],
  [/^\/docs/, 'the API documentation'],
  [/^\/api\/inbox\/operations$/, "the operator's view (operator token in production)"],
  [/^\/api\/webhooks\//, "providers' webhooks: signed by the provider and routed by the owner of `to`"],
];

let db: TestDatabase;
let store: PostgresEventStore;
let api: CommandApiProcess;
let projector: ServiceProcess;
const keys = { a: '', b: '' };
/** Every id account B owns, filled in as B writes. */
const betaIds = {
  sentMessage: '',
  scheduledMessage: '',
  emailMessage: '',
  conversation: '',
  emailConversation: '',
  contact: '',
  sharedContactInBeta: '',
  endpoint: '',
  endpointSecret: '',
};
const acmeIds = { message: '', conversation: '', contact: '' };
/** The log position of the last write: reads wait for the projection to reach it. */
let lastPosition = '';
/** A position from before account B wrote anything: a stream resumed there replays all of B's history. */
let before = '';

const headersFor = (key: string, json = true): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  ...(json ? { 'content-type': 'application/json' } : {}),
});

async function call(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: headersFor(key, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: compared as text
  }
  if (json && typeof json === 'object' && typeof (json as Json).position === 'string')
    lastPosition = (json as Json).position as string;
  return { status: res.status, body: json, text };
}

/** A read once the projection has applied every write so far (read-your-writes). */
const read = (key: string, path: string) =>
  call(key, 'GET', `${path}${path.includes('?') ? '&' : '?'}after=${encodeURIComponent(lastPosition)}`);

const sms = (from: string, to: string, extra: Json = {}) => ({
  from,
  to,
  type: 'sms',
  body: 'isolation check',
  attachments: null,
  timestamp: '2024-11-01T14:00:00Z',
  ...extra,
});

async function accepted(key: string, path: string, body: unknown) {
  const res = await call(key, 'POST', path, body);
  if (res.status < 200 || res.status > 202) throw new Error(`${path}: ${res.status} ${res.text}`);
  return res.body as Json;
}

async function documentedOperations(): Promise<Operation[]> {
  const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: unknown }>>;
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = spec.parameters ?? [];
      operations.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        hasBody: spec.requestBody !== undefined,
      });
    }
  }
  return operations;
}

const isOutside = (path: string) => outsideAccounts.some(([pattern]) => pattern.test(path));

/** B's id for a path parameter, judged by the resource it follows; a route nobody described fails here. */
function betaValue(path: string, param: string): string {
  const resource = new RegExp(`/([a-z-]+)/\\{${param}\\}`).exec(path)?.[1];
  if (param === 'address') return betaOnly.contactPhone;
  if (resource === 'conversations') return betaIds.conversation;
  if (resource === 'messages') return betaIds.scheduledMessage;
  if (resource === 'contacts') return betaIds.contact;
  if (resource === 'webhook-endpoints') return betaIds.endpoint;
  // No notifier runs here, so B's endpoint has no attempts: any attempt id under it is B's to refuse.
  if (param === 'attemptId') return randomUUID();
  throw new Error(`no fixture for {${param}} in ${path}: give this spec one so isolation covers the route`);
}

/** Request bodies for writes on an id (B's or an unknown one): valid, so only the id decides the answer. */
function bodyFor(operation: Operation): unknown {
  const route = `${operation.method} ${operation.path}`;
  const bodies: Record<string, unknown> = {
    'PATCH /api/contacts/{id}': { display_name: 'Taken over' },
    'POST /api/contacts/{id}/addresses': { address: '+18045550166' },
    'POST /api/contacts/{id}/merge': { contact_id: acmeIds.contact },
    'PATCH /api/webhook-endpoints/{id}': { enabled: false, url: 'http://127.0.0.1:9/taken-over' },
    'POST /api/webhook-endpoints/{id}/replay': { since: '2026-01-01T00:00:00Z' },
  };
  if (!operation.hasBody) return undefined;
  if (!(route in bodies)) throw new Error(`no request body for ${route}: give this spec one`);
  return bodies[route];
}

/** Writes without an id, done as A with B's data: B's sender is refused, the rest stays in A's account. */
function ownAccountWrite(operation: Operation): { body: unknown; expected: number } {
  const route = `${operation.method} ${operation.path}`;
  const writes: Record<string, { body: unknown; expected: number }> = {
    'POST /api/messages/sms': { body: sms(beta.phone, sharedContact), expected: 403 },
    'POST /api/messages/email': {
      body: {
        from: beta.email,
        to: betaOnly.email,
        subject: 'hi',
        body: 'hi',
        attachments: null,
        timestamp: '2024-11-01T14:00:00Z',
      },
      expected: 403,
    },
    // A session is the presented key's: A's key signs in as A (the answer names A's account, checked below).
    'POST /api/session': { body: { apiKey: keys.a }, expected: 200 },
    'DELETE /api/session': { body: undefined, expected: 200 },
    'POST /api/webhook-endpoints': { body: { url: 'http://127.0.0.1:9/acme-hook' }, expected: 201 },
    // A contact of A's own may hold an address B's contact holds: each account has its own contacts.
    'POST /api/contacts': { body: { display_name: 'Acme copy', addresses: [betaOnly.contactPhone] }, expected: 201 },
  };
  const write = writes[route];
  if (!write) throw new Error(`no fixture for ${route}: give this spec one so isolation covers the route`);
  return write;
}

/** Values for a listing's query parameters that would find B's data if the listing leaked it. */
const probes: Record<string, string[]> = {
  participant: [sharedContact, betaOnly.contactPhone, betaOnly.email, beta.phone],
  q: ['Beta', betaOnly.contactPhone, betaOnly.email, sharedContact],
  channel: ['sms', 'email'],
};
/** Parameters that only page, wait or resume: not a way to find data. */
const pagingOnly = new Set(['limit', 'cursor', 'after', 'lastEventId']);

const betaSecrets = () => [
  ...Object.values(betaIds),
  beta.phone,
  beta.email,
  betaOnly.contactPhone,
  betaOnly.email,
  betaOnly.name,
];

/** `echoed`: what the request itself sent (an answer may name it back). */
function expectNoBetaData(where: string, text: string, echoed = '') {
  for (const secret of betaSecrets().filter((s) => s === '' || !echoed.includes(s))) {
    expect(secret, 'fixture').not.toBe('');
    expect(text.includes(secret), `${where} shows account B's ${secret}`).toBe(false);
  }
}

/** Problem bodies compared without what names the request (its id, or the id it asked for). */
function comparable(body: unknown, ids: string[]): unknown {
  if (!body || typeof body !== 'object') return body;
  let text = JSON.stringify(body);
  for (const id of ids) text = text.split(id).join('<id>');
  const parsed = JSON.parse(text) as Json;
  delete parsed.instance;
  delete parsed.requestId;
  return parsed;
}

/** Reads an SSE stream as `key` until `until` appears in it (or the deadline), and returns the text. */
async function readStream(key: string, path: string, until: () => string, act: () => Promise<void>) {
  const abort = new AbortController();
  const res = await fetch(`${api.url}${path}`, { headers: headersFor(key, false), signal: abort.signal });
  expect(res.status, `${path} as its own account`).toBe(200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  await act();
  const deadline = Date.now() + 15_000;
  try {
    while (!(until() && text.includes(until())) && Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now())),
      ]);
      if (chunk === null || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    abort.abort();
  }
  return text;
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
  const ops = accountOperations({
    store,
    now: () => new Date(),
    newId: randomUUID,
    random: randomBytes,
    actor: 'operator:isolation-test',
  });
  const created = await Promise.all([
    ops.createAccount('Acme', [acme.phone, acme.email]),
    ops.createAccount('Beta', [beta.phone, beta.emailDomain]),
  ]);
  for (const result of created) if (!result.ok) throw new Error(`account not created: ${JSON.stringify(result)}`);
  const [a, b] = created.map((result) => (result.ok ? result.value : null));
  keys.a = a?.apiKey ?? '';
  keys.b = b?.apiKey ?? '';

  const projectorPort = await freePort();
  projector = spawnService('projector', { DATABASE_URL: db.url, PROJECTOR_PORT: String(projectorPort) });
  api = await startCommandApi(db.url);
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${projectorPort}/ready`)).ok,
    20_000,
    `projector (${projector.tail()})`,
  );

  // Account A: a conversation with the shared contact and a contact of its own.
  const acmeSent = await accepted(keys.a, '/api/messages/sms', sms(acme.phone, sharedContact));
  before = acmeSent.position as string;
  acmeIds.message = acmeSent.id as string;
  acmeIds.conversation = acmeSent.conversationId as string;
  acmeIds.contact = (
    await accepted(keys.a, '/api/contacts', { display_name: 'Acme Customer', addresses: ['+18045550188'] })
  ).id as string;

  // Account B: the same contact, a scheduled send, an email conversation, its own contact and an opt-out.
  const betaSent = await accepted(keys.b, '/api/messages/sms', sms(beta.phone, sharedContact));
  betaIds.sentMessage = betaSent.id as string;
  betaIds.conversation = betaSent.conversationId as string;
  const sendAt = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  betaIds.scheduledMessage = (
    await accepted(keys.b, '/api/messages/sms', sms(beta.phone, sharedContact, { send_at: sendAt }))
  ).id as string;
  const email = await accepted(keys.b, '/api/messages/email', {
    from: beta.email,
    to: betaOnly.email,
    subject: 'Your order',
    body: '<p>Shipped</p>',
    attachments: null,
    timestamp: '2024-11-01T14:00:00Z',
  });
  betaIds.emailMessage = email.id as string;
  betaIds.emailConversation = email.conversationId as string;
  betaIds.contact = (
    await accepted(keys.b, '/api/contacts', { display_name: betaOnly.name, addresses: [betaOnly.contactPhone] })
  ).id as string;
  const endpoint = await accepted(keys.b, '/api/webhook-endpoints', { url: 'http://127.0.0.1:9/beta-hook' });
  betaIds.endpoint = endpoint.id as string;
  betaIds.endpointSecret = endpoint.secret as string;
  // Local mode takes unsigned webhooks; the STOP reaches B, who owns the number.
  await accepted(keys.b, '/api/webhooks/sms', {
    ...sms(betaOnly.contactPhone, beta.phone),
    body: 'STOP',
    messaging_provider_id: `isolation-stop-${randomUUID()}`,
  });

  const sharedInBeta = await read(keys.b, `/api/contacts?q=${encodeURIComponent(sharedContact)}`);
  const items = (sharedInBeta.body as { items?: Array<{ id: string }> }).items ?? [];
  expect(items, 'B sees its own contact for the shared number').toHaveLength(1);
  betaIds.sharedContactInBeta = items[0]?.id ?? '';
  // Both accounts see their own data: the checks below are not passing on an empty read model.
  expect((await read(keys.b, `/api/messages/${betaIds.scheduledMessage}`)).status).toBe(200);
  expect((await read(keys.a, `/api/conversations/${acmeIds.conversation}`)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await api?.process.stop('SIGKILL');
  await projector?.stop('SIGKILL');
  await store?.close();
  await db?.drop();
});

describe('one account never reaches another', () => {
  it('the document lists the account routes this spec knows how to probe', async () => {
    const operations = (await documentedOperations()).filter((o) => !isOutside(o.path));
    const routes = operations.map((o) => `${o.method} ${o.path}`);
    // A floor, not the list: the document grows, and every new route is probed by the cases below.
    for (const known of [
      'GET /api/conversations',
      'GET /api/conversations/{id}',
      'GET /api/conversations/{id}/messages',
      'GET /api/messages/{id}',
      'DELETE /api/messages/{id}',
      'GET /api/contacts',
      'GET /api/contacts/{id}',
      'PATCH /api/contacts/{id}',
      'POST /api/contacts/{id}/merge',
      'GET /api/stream',
      'POST /api/messages/sms',
    ])
      expect(routes).toContain(known);
  });

  it("every route on an id of B's answers A exactly as an unknown id does", async () => {
    const operations = (await documentedOperations()).filter((o) => !isOutside(o.path) && o.params.length > 0);
    for (const operation of operations) {
      const route = `${operation.method} ${operation.path}`;
      const theirs = Object.fromEntries(operation.params.map((p) => [p, betaValue(operation.path, p)]));
      const unknown = Object.fromEntries(
        operation.params.map((p) => [p, p === 'address' ? betaOnly.contactPhone : randomUUID()]),
      );
      const url = (values: Record<string, string>) =>
        operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
      const body = bodyFor(operation);
      if (operation.path.endsWith('/stream')) {
        // A stream that opened would never end: compare the status, and the problem when it did not open.
        const [onTheirs, onUnknown] = await Promise.all(
          [theirs, unknown].map(async (values) => {
            const abort = new AbortController();
            const res = await fetch(`${api.url}${url(values)}`, {
              headers: headersFor(keys.a, false),
              signal: abort.signal,
            });
            const text = res.status === 200 ? '' : await res.text();
            abort.abort();
            return { status: res.status, text };
          }),
        );
        expect(onTheirs?.status, route).toBe(404);
        expect(onTheirs?.text.split(theirs.id ?? '<none>').join('<id>'), route).toBe(
          onUnknown?.text.split(unknown.id ?? '<none>').join('<id>'),
        );
        continue;
      }
      const onTheirs = await call(keys.a, operation.method, url(theirs), body);
      const onUnknown = await call(keys.a, operation.method, url(unknown), body);
      expect(onTheirs.status, `${route} on B's id`).toBe(404);
      expect(comparable(onTheirs.body, Object.values(theirs)), route).toEqual(
        comparable(onUnknown.body, Object.values(unknown)),
      );
    }
  });

  it("A cannot merge B's contact into its own either", async () => {
    const res = await call(keys.a, 'POST', `/api/contacts/${acmeIds.contact}/merge`, { contact_id: betaIds.contact });
    const unknown = await call(keys.a, 'POST', `/api/contacts/${acmeIds.contact}/merge`, { contact_id: randomUUID() });
    expect(res.status).toBe(unknown.status);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it("listings and searches never carry B's data, whatever their filters", async () => {
    const operations = (await documentedOperations()).filter(
      (o) => !isOutside(o.path) && o.params.length === 0 && o.method === 'GET' && !o.path.endsWith('/stream'),
    );
    for (const operation of operations) {
      const queries: string[] = [''];
      for (const name of operation.query) {
        if (pagingOnly.has(name)) continue;
        const values = probes[name];
        if (!values) throw new Error(`no probe for ?${name} on ${operation.path}: give this spec one`);
        for (const value of values) queries.push(`?${name}=${encodeURIComponent(value)}`);
      }
      for (const query of queries) {
        const res = await read(keys.a, `${operation.path}${query}`);
        expect(res.status, `${operation.path}${query}`).toBeLessThan(500);
        expectNoBetaData(`GET ${operation.path}${query}`, res.text);
      }
    }
    // A's own data is there: the listing is not simply empty.
    expect((await read(keys.a, '/api/conversations')).text).toContain(acmeIds.conversation);
    expect((await read(keys.a, `/api/conversations?participant=${encodeURIComponent(sharedContact)}`)).text).toContain(
      acmeIds.conversation,
    );
    expect((await read(keys.a, '/api/contacts?q=Acme')).text).toContain(acmeIds.contact);
  });

  it("writes without an id stay in A's account: B's senders are refused", async () => {
    const operations = (await documentedOperations()).filter(
      (o) => !isOutside(o.path) && o.params.length === 0 && o.method !== 'GET',
    );
    for (const operation of operations) {
      const { body, expected } = ownAccountWrite(operation);
      const res = await call(keys.a, operation.method, operation.path, body);
      expect(res.status, `${operation.method} ${operation.path}: ${res.text}`).toBe(expected);
      expectNoBetaData(`${operation.method} ${operation.path}`, res.text, JSON.stringify(body ?? null));
    }
  });

  it("A's live stream, resumed from before B wrote anything, carries only A's changes", async () => {
    const late = { acme: '', beta: '' };
    const text = await readStream(
      keys.a,
      `/api/stream?lastEventId=${encodeURIComponent(before)}`,
      () => late.acme,
      async () => {
        late.beta = (await accepted(keys.b, '/api/messages/sms', sms(beta.phone, sharedContact))).id as string;
        late.acme = (await accepted(keys.a, '/api/messages/sms', sms(acme.phone, sharedContact))).id as string;
      },
    );
    expect(text, "A's stream shows A's new message").toContain(late.acme);
    expect(text.includes(late.beta), "A's stream shows B's new message").toBe(false);
    expectNoBetaData('GET /api/stream', text);
  });

  it("B's data is as B left it", async () => {
    const scheduled = await read(keys.b, `/api/messages/${betaIds.scheduledMessage}`);
    expect((scheduled.body as Json).status).toBe('scheduled');
    const contact = await read(keys.b, `/api/contacts/${betaIds.contact}`);
    expect(contact.status).toBe(200);
    expect(contact.text).toContain(betaOnly.name);
    expect(contact.text).toContain(betaOnly.contactPhone);
    expect(contact.text).not.toContain('+18045550166');
    const endpoint = await call(keys.b, 'GET', `/api/webhook-endpoints/${betaIds.endpoint}`);
    expect(endpoint.status).toBe(200);
    expect(endpoint.body).toMatchObject({ url: 'http://127.0.0.1:9/beta-hook', enabled: true });
    const conversation = await read(keys.b, `/api/conversations/${betaIds.conversation}/messages`);
    expect(conversation.text).not.toContain(acmeIds.message);
  });
});
