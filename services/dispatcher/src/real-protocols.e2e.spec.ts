// SMS_PROVIDER=twilio and EMAIL_PROVIDER=sendgrid end to end, as real processes over real HTTP: a send
// through the command API is dispatched to the mocks' Twilio and SendGrid endpoints, and the signed Twilio
// status callback / SendGrid Event Webhook batch they post back moves each message to delivered (or
// undelivered for the magic recipients). The Event Webhook key pair is made here and split between the
// mock (private) and the command API (public), as a SendGrid console would.
import { generateKeyPairSync } from 'node:crypto';
import { freePort } from '@hatch/infra';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import {
  type CommandApiProcess,
  type DispatcherProcess,
  getJson,
  type MockProviders,
  postJson,
  startCommandApi,
  startDispatcher,
  startMockProviders,
  waitFor,
} from '@hatch/testing/processes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'e2e_twilio_auth_token';
const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const inboundSecret = 'e2e-inbound-parse-secret';

describe('Twilio and SendGrid protocols end to end', () => {
  let database: TestDatabase;
  let db: pg.Client;
  let providers: MockProviders;
  let api: CommandApiProcess;
  let dispatcher: DispatcherProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const apiPort = await freePort();
    const publicBase = `http://127.0.0.1:${apiPort}`;
    [providers, api] = await Promise.all([
      startMockProviders({
        HATCH_CALLBACK_BASE_URL: publicBase,
        RECEIPTS_ENABLED: 'true',
        RECEIPT_DELAY_MS: '50',
        SENDGRID_WEBHOOK_PRIVATE_KEY: keys.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_AUTH_TOKEN: authToken,
        SENDGRID_INBOUND_SECRET: inboundSecret,
      }),
      startCommandApi(
        database.url,
        {
          PUBLIC_BASE_URL: publicBase,
          TWILIO_AUTH_TOKEN: authToken,
          SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
          SENDGRID_INBOUND_SECRET: inboundSecret,
        },
        apiPort,
      ),
    ]);
    dispatcher = await startDispatcher(database.url, providers, {
      SMS_PROVIDER: 'twilio',
      TWILIO_BASE_URL: providers.urls.sms,
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      EMAIL_PROVIDER: 'sendgrid',
      SENDGRID_BASE_URL: providers.urls.email,
      SENDGRID_API_KEY: 'SG.e2e-key',
      PUBLIC_BASE_URL: publicBase,
    });
  }, 60_000);

  afterAll(async () => {
    await dispatcher?.process.stop();
    await api?.process.stop();
    await providers?.process.stop();
    await db?.end();
    await database?.drop();
  });

  const stream = async (id: string) =>
    (
      await db.query<{ event_type: string; data: Record<string, unknown> }>(
        'SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY transaction_id, position',
        [`message-${id}`],
      )
    ).rows;

  const settled = (id: string, type: 'MessageDelivered' | 'MessageUndelivered') =>
    waitFor(
      async () => {
        const rows = await stream(id);
        return rows.some((r) => r.event_type === type) ? rows : null;
      },
      20_000,
      `${type} for ${id} (command API: ${api.process.tail()})`,
    );

  const ledger = (url: string) =>
    getJson<{ messages: Array<{ messageId: string | null; protocol: string; providerMessageId: string | null }> }>(
      `${url}/admin/messages`,
    );

  const send = async (channel: 'sms' | 'email', to: string) => {
    const body =
      channel === 'sms'
        ? { from: '+12016661234', to, type: 'sms', body: 'hello over Twilio', attachments: null }
        : { from: 'user@usehatchapp.com', to, body: '<p>hello over <b>SendGrid</b></p>', attachments: [] };
    const res = await postJson(`${api.url}/api/messages/${channel}`, { ...body, timestamp: new Date().toISOString() });
    expect(res.status).toBe(202);
    return (res.body as { id: string }).id;
  };

  it('an SMS goes out over Twilio and its signed status callback moves it to delivered', async () => {
    const id = await send('sms', '+14155552345');
    const rows = await settled(id, 'MessageDelivered');
    const sent = rows.find((r) => r.event_type === 'MessageSent');
    expect(sent?.data).toMatchObject({ provider: 'twilio' });
    const atMock = (await ledger(providers.urls.sms)).messages.find((m) => m.messageId === id);
    expect(atMock).toMatchObject({ protocol: 'twilio', providerMessageId: sent?.data.providerMessageId });
    expect(rows.find((r) => r.event_type === 'MessageDelivered')?.data).toMatchObject({
      provider: 'twilio',
      providerMessageId: sent?.data.providerMessageId,
    });
  });

  it('an email goes out over SendGrid Mail Send and its signed Event Webhook batch moves it to delivered', async () => {
    const id = await send('email', 'contact@gmail.com');
    const rows = await settled(id, 'MessageDelivered');
    const sent = rows.find((r) => r.event_type === 'MessageSent');
    expect(sent?.data).toMatchObject({ provider: 'sendgrid' });
    const atMock = (await ledger(providers.urls.email)).messages.find((m) => m.messageId === id);
    expect(atMock).toMatchObject({ protocol: 'sendgrid', providerMessageId: sent?.data.providerMessageId });
    expect(rows.find((r) => r.event_type === 'MessageDelivered')?.data).toMatchObject({
      provider: 'sendgrid',
      providerMessageId: sent?.data.providerMessageId,
    });
  });

  it('a Twilio undelivered callback and a SendGrid bounce end their messages undelivered', async () => {
    const [sms, email] = await Promise.all([send('sms', '+12015550410'), send('email', 'bounce@example.com')]);
    const [smsRows, emailRows] = await Promise.all([
      settled(sms, 'MessageUndelivered'),
      settled(email, 'MessageUndelivered'),
    ]);
    expect(smsRows.find((r) => r.event_type === 'MessageUndelivered')?.data).toMatchObject({ errorCode: '30003' });
    expect(emailRows.find((r) => r.event_type === 'MessageUndelivered')?.data.reason).toMatch(/^bounce: 550/);
    expect(smsRows.some((r) => r.event_type === 'MessageDelivered')).toBe(false);
  });

  const received = (provider: string, from: string) =>
    waitFor(
      async () =>
        (
          await db.query<{ data: Record<string, unknown> }>(
            `SELECT data FROM events WHERE event_type = 'MessageReceived' AND data->>'provider' = $1 AND data->>'from' = $2`,
            [provider, from],
          )
        ).rows[0],
      10_000,
      `a ${provider} reply from ${from}`,
    );

  it("a contact's replies arrive in Twilio's signed webhook and as a SendGrid Inbound Parse post", async () => {
    const sms = await postJson(`${providers.urls.sms}/admin/reply`, {
      protocol: 'twilio',
      from: '+14155550111',
      to: '+12016661234',
      body: 'reply over Twilio',
    });
    expect(sms.body).toMatchObject({ webhookStatus: 200 });
    expect((await received('twilio', '+14155550111')).data).toMatchObject({
      body: 'reply over Twilio',
      channel: 'sms',
    });
    const mail = await postJson(`${providers.urls.email}/admin/reply`, {
      protocol: 'sendgrid',
      from: 'reader@gmail.com',
      to: 'user@usehatchapp.com',
      subject: 'Re: hello',
      body: '<p>reply over SendGrid</p>',
    });
    expect(mail.body).toMatchObject({ webhookStatus: 200 });
    expect((await received('sendgrid', 'reader@gmail.com')).data).toMatchObject({
      channel: 'email',
      subject: 'Re: hello',
      body: '<p>reply over SendGrid</p>',
    });
  });

  it("a SendGrid unsubscribe event opts the contact out of the sender's email", async () => {
    const id = await send('email', 'leaver@gmail.com');
    await settled(id, 'MessageDelivered');
    const res = await postJson(`${providers.urls.email}/admin/unsubscribe`, {
      protocol: 'sendgrid',
      email: 'leaver@gmail.com',
      sender: 'user@usehatchapp.com',
    });
    expect(res.body).toMatchObject({ webhookStatus: 200 });
    const optedOut = await db.query(
      `SELECT data FROM events WHERE event_type = 'ContactOptedOut' AND data->>'address' = 'leaver@gmail.com'`,
    );
    expect(optedOut.rows[0]?.data).toMatchObject({
      channel: 'email',
      sender: 'user@usehatchapp.com',
      source: 'unsubscribe',
    });
  });
});
