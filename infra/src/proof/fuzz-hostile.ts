// bin/fuzz's hand-made classes, sent through the same recording proxy after schemathesis: the values that
// once got past the edge or reached PostgreSQL — extreme instants, maximal lengths, huge numbers in every
// numeric field and cursor, NUL bytes in every query parameter. Each is checked like any fuzz request (no
// 5xx, descriptive problem+json, no append from a rejected one); afterwards nothing may be quarantined.

export interface HostileRequest {
  /** The class it is reported under. */
  kind: 'extreme instant' | 'maximal length' | 'huge number' | 'NUL byte';
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

const huge = '9'.repeat(20);
const hugePosition = `${huge}-${huge}`;
const uuid = '00000000-0000-4000-8000-000000000000';
const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

const sms = { from: '+12016661234', to: '+18045551234', type: 'sms', body: 'Hello', attachments: null };
const email = { from: 'user@usehatchapp.com', to: 'contact@gmail.com', body: '<p>Hi</p>', attachments: null };
const instants = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  '2024-11-01T14:00:00-23:59',
  '2024-11-01T14:00:00+14:00',
  '2024-02-30T00:00:00Z',
];

function extremeInstants(): HostileRequest[] {
  const out: HostileRequest[] = [];
  for (const timestamp of instants) {
    const kind = 'extreme instant' as const;
    out.push({ kind, method: 'POST', path: '/api/messages/sms', body: { ...sms, timestamp } });
    out.push({ kind, method: 'POST', path: '/api/messages/email', body: { ...email, timestamp } });
    out.push({ kind, method: 'POST', path: '/api/messages/sms', body: { ...sms, send_at: timestamp } });
    out.push({
      kind,
      method: 'POST',
      path: '/api/webhooks/sms',
      body: { ...sms, from: sms.to, to: sms.from, messaging_provider_id: `hostile-${timestamp}`, timestamp },
    });
    out.push({
      kind,
      method: 'POST',
      path: '/api/webhooks/sms/status',
      body: { messaging_provider_id: 'p', message_id: uuid, status: 'delivered', error_code: null, timestamp },
    });
  }
  return out;
}

function maximalLengths(): HostileRequest[] {
  const kind = 'maximal length' as const;
  const url = (i: number) => `https://example.com/${String(i).padStart(2048 - 21, 'a')}`;
  const local = (n: number) => `${'a'.repeat(n - '@example.com'.length)}@example.com`;
  return [
    { kind, method: 'POST', path: '/api/messages/sms', body: { ...sms, body: 'x'.repeat(1600) } },
    { kind, method: 'POST', path: '/api/messages/sms', body: { ...sms, body: '😀'.repeat(1600) } },
    { kind, method: 'POST', path: '/api/messages/sms', body: { ...sms, type: 'mms', attachments: [url(1)] } },
    {
      kind,
      method: 'POST',
      path: '/api/messages/email',
      body: {
        ...email,
        body: `<p>${'y'.repeat(200_000)}</p>`,
        subject: 's'.repeat(998),
        cc: Array.from({ length: 100 }, (_, i) => `cc${i}@example.com`),
        bcc: [local(254)],
        reply_to: local(320),
        attachments: Array.from({ length: 10 }, (_, i) => url(i)),
      },
    },
    { kind, method: 'POST', path: '/api/messages/email', body: { ...email, to: local(320), subject: 's'.repeat(999) } },
    { kind, method: 'GET', path: `/api/conversations?participant=${'1'.repeat(320)}` },
  ];
}

function hugeNumbers(): HostileRequest[] {
  const kind = 'huge number' as const;
  const lists = ['/api/conversations', `/api/conversations/${uuid}/messages`, '/api/contacts'];
  const out: HostileRequest[] = [];
  for (const list of lists)
    for (const limit of [huge, '1e400', '-1', '0', '1.5', 'NaN', String(2 ** 53)])
      out.push({ kind, method: 'GET', path: `${list}?limit=${encodeURIComponent(limit)}` });
  for (const cursor of [`${huge}.${uuid}`, `-${huge}.${uuid}`, `99999999999999999.${uuid}`, 'x'])
    for (const list of lists.slice(0, 2)) out.push({ kind, method: 'GET', path: `${list}?cursor=${cursorOf(cursor)}` });
  for (const position of [hugePosition, `00000000000000000001-${huge}`, `${huge}-00000000000000000001`, '1-1']) {
    out.push({ kind, method: 'GET', path: `/api/conversations?after=${position}` });
    out.push({ kind, method: 'GET', path: '/api/conversations', headers: { 'x-hatch-min-position': position } });
    out.push({ kind, method: 'GET', path: `/api/messages/${uuid}?after=${position}` });
    // A valid position opens a stream, which the recording proxy cannot pass on: only the invalid ones.
    if (position === '1-1') continue;
    out.push({ kind, method: 'GET', path: `/api/stream?lastEventId=${position}` });
    out.push({ kind, method: 'GET', path: '/api/stream', headers: { 'last-event-id': position } });
  }
  return out;
}

function nulBytes(): HostileRequest[] {
  const kind = 'NUL byte' as const;
  return [
    '/api/conversations?participant=%2B1201%00',
    '/api/conversations?channel=sms%00',
    '/api/conversations?cursor=%00',
    '/api/conversations?after=%00',
    '/api/conversations?limit=1%00',
    `/api/conversations/${uuid}/messages?cursor=a%00`,
    '/api/contacts?q=a%00b',
    '/api/stream?lastEventId=%00',
  ].map((path) => ({ kind, method: 'GET' as const, path }));
}

export const hostileRequests = (): HostileRequest[] => [
  ...extremeInstants(),
  ...maximalLengths(),
  ...hugeNumbers(),
  ...nulBytes(),
];

/** Sends each through the proxy (which records and checks it); returns the statuses per class. */
export async function sendHostileRequests(proxyUrl: string, requests = hostileRequests()) {
  const statuses = new Map<HostileRequest['kind'], number[]>();
  for (const r of requests) {
    const response = await fetch(`${proxyUrl}${r.path}`, {
      method: r.method,
      headers: { ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers },
      ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const list = statuses.get(r.kind) ?? [];
    list.push(response.status);
    statuses.set(r.kind, list);
    await response.arrayBuffer();
  }
  return statuses;
}
