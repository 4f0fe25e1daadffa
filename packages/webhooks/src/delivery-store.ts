// The notifier's tables (migrations/1796400000000_webhook-deliveries.sql): endpoints, message routing and
// pending deliveries are derived from the log inside the notifier's checkpoint transaction; attempts are
// recorded as they happen. The command API reads attempts and re-queues a delivery through here too.
import type { WebhookEndpointEvent } from '@hatch/domain';
import type { Queryable } from '@hatch/event-store';

export interface EndpointTarget {
  endpointId: string;
  eventTypes: string[] | null;
}

export interface NewDelivery {
  deliveryId: string;
  endpointId: string;
  eventId: string;
  eventPosition: string;
  eventType: string;
  body: string;
}

export interface DueDelivery extends NewDelivery {
  attempts: number;
  url: string;
  /** The current secret first; the previous one for a day after a rotation. */
  secrets: string[];
  accountId: string;
  failingSince: string | null;
}

/** Keeps `webhook_endpoints` in step with one endpoint event (log order). */
export async function applyEndpointEvent(db: Queryable, event: WebhookEndpointEvent) {
  const id = event.data.endpointId;
  switch (event.type) {
    case 'WebhookEndpointCreated': {
      const { accountId, url, eventTypes, secret } = event.data;
      await db.query(
        `INSERT INTO webhook_endpoints (endpoint_id, account_id, url, event_types, secret, enabled)
         VALUES ($1, $2, $3, $4, $5, true) ON CONFLICT (endpoint_id) DO NOTHING`,
        [id, accountId, url, eventTypes, secret],
      );
      return;
    }
    case 'WebhookEndpointUpdated': {
      const { url, eventTypes, enabled } = event.data;
      // Re-enabled: what waited is due now (not hours later on the schedule), and the run of failures starts over.
      if (enabled)
        await db.query(
          `UPDATE webhook_deliveries SET next_attempt_at = now()
            WHERE endpoint_id = $1 AND state = 'pending'
              AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE endpoint_id = $1 AND NOT enabled)`,
          [id],
        );
      await db.query(
        `UPDATE webhook_endpoints SET url = $2, event_types = $3, enabled = $4,
                failing_since = CASE WHEN $4 AND NOT enabled THEN NULL ELSE failing_since END
          WHERE endpoint_id = $1`,
        [id, url, eventTypes, enabled],
      );
      return;
    }
    case 'WebhookEndpointSecretRotated':
      await db.query(
        `UPDATE webhook_endpoints SET previous_secret = secret, secret = $2,
                previous_secret_until = $3::timestamptz + interval '24 hours'
          WHERE endpoint_id = $1`,
        [id, event.data.secret, event.data.rotatedAt],
      );
      return;
    case 'WebhookEndpointDisabled':
      await db.query('UPDATE webhook_endpoints SET enabled = false WHERE endpoint_id = $1', [id]);
      return;
    case 'WebhookEndpointDeleted':
      await db.query('UPDATE webhook_endpoints SET enabled = false, deleted = true WHERE endpoint_id = $1', [id]);
      await db.query(
        `UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL
                       WHERE endpoint_id = $1 AND state = 'pending'`,
        [id],
      );
      return;
    case 'WebhookEndpointReplayRequested':
      return;
  }
}

/** One endpoint as deliveries are matched against it (null: unknown). */
export async function endpointTarget(db: Queryable, endpointId: string): Promise<EndpointTarget | null> {
  const { rows } = await db.query('SELECT event_types FROM webhook_endpoints WHERE endpoint_id = $1 AND NOT deleted', [
    endpointId,
  ]);
  const row = rows[0];
  return row ? { endpointId, eventTypes: (row.event_types as string[] | null) ?? null } : null;
}

/** The account's endpoints that receive new events. */
export async function liveEndpoints(db: Queryable, accountIds: string[]): Promise<Map<string, EndpointTarget[]>> {
  const byAccount = new Map<string, EndpointTarget[]>(accountIds.map((a) => [a, []]));
  if (accountIds.length === 0) return byAccount;
  const { rows } = await db.query(
    `SELECT endpoint_id, account_id, event_types FROM webhook_endpoints
      WHERE account_id = ANY($1::text[]) AND enabled AND NOT deleted`,
    [accountIds],
  );
  for (const r of rows)
    byAccount.get(String(r.account_id))?.push({
      endpointId: String(r.endpoint_id),
      eventTypes: (r.event_types as string[] | null) ?? null,
    });
  return byAccount;
}

export interface MessageRouteRow {
  messageId: string;
  accountId: string;
  conversationId: string;
  channel: string;
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
}

export async function insertMessageRoutes(db: Queryable, routes: MessageRouteRow[]) {
  if (routes.length === 0) return;
  await db.query(
    `INSERT INTO webhook_messages (message_id, account_id, conversation_id, channel, direction, sender, recipient)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
     ON CONFLICT (message_id) DO NOTHING`,
    [
      routes.map((r) => r.messageId),
      routes.map((r) => r.accountId),
      routes.map((r) => r.conversationId),
      routes.map((r) => r.channel),
      routes.map((r) => r.direction),
      routes.map((r) => r.from),
      routes.map((r) => r.to),
    ],
  );
}

export async function messageRoutes(db: Queryable, messageIds: string[]): Promise<Map<string, MessageRouteRow>> {
  const found = new Map<string, MessageRouteRow>();
  if (messageIds.length === 0) return found;
  const { rows } = await db.query(
    `SELECT message_id, account_id, conversation_id, channel, direction, sender, recipient
       FROM webhook_messages WHERE message_id = ANY($1::uuid[])`,
    [messageIds],
  );
  for (const r of rows)
    found.set(String(r.message_id), {
      messageId: String(r.message_id),
      accountId: String(r.account_id),
      conversationId: String(r.conversation_id),
      channel: String(r.channel),
      direction: r.direction === 'inbound' ? 'inbound' : 'outbound',
      from: String(r.sender),
      to: String(r.recipient),
    });
  return found;
}

export async function setSenderOwner(db: Queryable, sender: string, accountId: string | null) {
  if (accountId === null) await db.query('DELETE FROM webhook_senders WHERE sender = $1', [sender]);
  else
    await db.query(
      `INSERT INTO webhook_senders (sender, account_id) VALUES ($1, $2)
       ON CONFLICT (sender) DO UPDATE SET account_id = $2`,
      [sender, accountId],
    );
}

export async function senderOwners(db: Queryable, senders: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (senders.length === 0) return found;
  const { rows } = await db.query('SELECT sender, account_id FROM webhook_senders WHERE sender = ANY($1::text[])', [
    senders,
  ]);
  for (const r of rows) found.set(String(r.sender), String(r.account_id));
  return found;
}

/**
 * New deliveries are due at once. `resend` (a replay) puts an existing delivery back in the queue with the
 * same id and body; otherwise a delivery already queued (a batch applied again) is left as it is.
 */
export async function enqueueDeliveries(db: Queryable, deliveries: NewDelivery[], options: { resend: boolean }) {
  if (deliveries.length === 0) return;
  const onConflict = options.resend
    ? `DO UPDATE SET state = 'pending', next_attempt_at = now(), lease_until = NULL`
    : 'DO NOTHING';
  await db.query(
    `INSERT INTO webhook_deliveries (delivery_id, endpoint_id, event_id, event_position, event_type, body, state, next_attempt_at)
     SELECT d, e, ev, p, t, b, 'pending', now()
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[]) AS x(d, e, ev, p, t, b)
     ON CONFLICT (delivery_id) ${onConflict}`,
    [
      deliveries.map((d) => d.deliveryId),
      deliveries.map((d) => d.endpointId),
      deliveries.map((d) => d.eventId),
      deliveries.map((d) => d.eventPosition),
      deliveries.map((d) => d.eventType),
      deliveries.map((d) => d.body),
    ],
  );
}

/**
 * Leases due deliveries of live endpoints, at most `perEndpoint - busy[endpoint]` per endpoint, oldest
 * first: an endpoint with its slots full gets nothing more, so it cannot take the slots of the others.
 */
export async function claimDueDeliveries(
  db: Queryable,
  options: { limit: number; perEndpoint: number; busy: Record<string, number>; leaseMs: number },
): Promise<DueDelivery[]> {
  const { rows } = await db.query(
    `WITH ranked AS (
       SELECT d.delivery_id, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.event_position) AS rn,
              d.endpoint_id
         FROM webhook_deliveries d JOIN webhook_endpoints e USING (endpoint_id)
        WHERE d.state = 'pending' AND d.next_attempt_at <= now()
          AND (d.lease_until IS NULL OR d.lease_until < now())
          AND e.enabled AND NOT e.deleted
     ), picked AS (
       SELECT delivery_id FROM ranked
        WHERE rn <= $2::int - COALESCE(($3::jsonb ->> endpoint_id::text)::int, 0)
        LIMIT $1
     ), leased AS (
       UPDATE webhook_deliveries d SET lease_until = now() + make_interval(secs => $4::double precision / 1000)
         FROM picked WHERE d.delivery_id = picked.delivery_id
           AND d.state = 'pending' AND (d.lease_until IS NULL OR d.lease_until < now())
       RETURNING d.*
     )
     SELECT l.delivery_id, l.endpoint_id, l.event_id, l.event_position, l.event_type, l.body, l.attempts,
            e.url, e.secret, e.account_id, e.failing_since,
            CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END AS previous_secret
       FROM leased l JOIN webhook_endpoints e USING (endpoint_id)`,
    [options.limit, options.perEndpoint, JSON.stringify(options.busy), options.leaseMs],
  );
  return rows.map((r) => ({
    deliveryId: String(r.delivery_id),
    endpointId: String(r.endpoint_id),
    eventId: String(r.event_id),
    eventPosition: String(r.event_position),
    eventType: String(r.event_type),
    body: String(r.body),
    attempts: Number(r.attempts),
    url: String(r.url),
    secrets: [String(r.secret), ...(r.previous_secret ? [String(r.previous_secret)] : [])],
    accountId: String(r.account_id),
    failingSince: r.failing_since ? new Date(r.failing_since as string).toISOString() : null,
  }));
}

export interface AttemptRecord {
  attemptId: string;
  deliveryId: string;
  endpointId: string;
  attempt: number;
  attemptedAt: Date;
  latencyMs: number;
  responseStatus: number | null;
  succeeded: boolean;
  error: string | null;
  /** null with `succeeded`: delivered; null without: no more attempts (failed). */
  nextAttemptAt: Date | null;
}

/** The attempt, the delivery's new state and the endpoint's failure run: one statement, so one commit. */
export async function recordAttempt(db: Queryable, a: AttemptRecord) {
  const state = a.succeeded ? 'delivered' : a.nextAttemptAt ? 'pending' : 'failed';
  await db.query(
    `WITH attempt AS (
       INSERT INTO webhook_attempts (attempt_id, delivery_id, endpoint_id, attempt, attempted_at, latency_ms,
                                     response_status, succeeded, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (attempt_id) DO NOTHING
     ), delivery AS (
       UPDATE webhook_deliveries SET state = $10, attempts = GREATEST(attempts, $4), next_attempt_at = $11,
              lease_until = NULL, delivered_at = CASE WHEN $10 = 'delivered' THEN $5 ELSE delivered_at END
        WHERE delivery_id = $2
     )
     UPDATE webhook_endpoints
        SET failing_since = CASE WHEN $8 THEN NULL ELSE COALESCE(failing_since, $5) END
      WHERE endpoint_id = $3`,
    [
      a.attemptId,
      a.deliveryId,
      a.endpointId,
      a.attempt,
      a.attemptedAt,
      a.latencyMs,
      a.responseStatus,
      a.succeeded,
      a.error,
      state,
      a.nextAttemptAt,
    ],
  );
}

/** Stops deliveries to an endpoint at once (the log's WebhookEndpointDisabled follows through the subscription). */
export async function markEndpointDisabled(db: Queryable, endpointId: string) {
  await db.query('UPDATE webhook_endpoints SET enabled = false WHERE endpoint_id = $1', [endpointId]);
}

export interface AttemptView {
  attemptId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  attemptedAt: string;
  latencyMs: number;
  responseStatus: number | null;
  succeeded: boolean;
  error: string | null;
  deliveryState: 'pending' | 'delivered' | 'failed';
  nextAttemptAt: string | null;
}

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

export async function listAttempts(
  db: Queryable,
  endpointId: string,
  options: { limit: number; failedOnly?: boolean },
): Promise<AttemptView[]> {
  const { rows } = await db.query(
    `SELECT a.attempt_id, a.delivery_id, d.event_id, d.event_type, a.attempt, a.attempted_at, a.latency_ms,
            a.response_status, a.succeeded, a.error, d.state, d.next_attempt_at
       FROM webhook_attempts a JOIN webhook_deliveries d USING (delivery_id)
      WHERE a.endpoint_id = $1 AND ($3::boolean IS NOT TRUE OR NOT a.succeeded)
      ORDER BY a.attempted_at DESC, a.attempt DESC LIMIT $2`,
    [endpointId, options.limit, options.failedOnly ?? false],
  );
  return rows.map((r) => ({
    attemptId: String(r.attempt_id),
    webhookId: String(r.delivery_id),
    eventId: String(r.event_id),
    eventType: String(r.event_type),
    attempt: Number(r.attempt),
    attemptedAt: iso(r.attempted_at) ?? '',
    latencyMs: Number(r.latency_ms),
    responseStatus: r.response_status === null ? null : Number(r.response_status),
    succeeded: Boolean(r.succeeded),
    error: r.error === null ? null : String(r.error),
    deliveryState: r.state as AttemptView['deliveryState'],
    nextAttemptAt: r.state === 'pending' ? iso(r.next_attempt_at) : null,
  }));
}

/** Sends the attempt's delivery again now (same webhook-id and body); false when the endpoint has no such attempt. */
export async function retryAttemptDelivery(
  db: Queryable,
  endpointId: string,
  attemptId: string,
): Promise<string | null> {
  const { rows } = await db.query(
    `UPDATE webhook_deliveries d SET state = 'pending', next_attempt_at = now(), lease_until = NULL
       FROM webhook_attempts a
      WHERE a.attempt_id = $2 AND a.endpoint_id = $1 AND d.delivery_id = a.delivery_id
      RETURNING d.delivery_id`,
    [endpointId, attemptId],
  );
  return rows[0] ? String(rows[0].delivery_id) : null;
}

export interface EndpointHealth {
  endpointId: string;
  accountId: string;
  url: string;
  enabled: boolean;
  failingSince: string | null;
  pending: number;
  failed: number;
  lastDeliveredAt: string | null;
}

export interface FailingAttempt {
  endpointId: string;
  webhookId: string;
  eventType: string;
  attempt: number;
  attemptedAt: string;
  responseStatus: number | null;
  error: string | null;
}

/** For operators: endpoints (failing first) with their queues, and the latest failed attempts. */
export async function webhookHealth(db: Queryable, limit = 50) {
  const endpoints = await db.query(
    `SELECT e.endpoint_id, e.account_id, e.url, e.enabled, e.failing_since,
            count(d.delivery_id) FILTER (WHERE d.state = 'pending')::int AS pending,
            count(d.delivery_id) FILTER (WHERE d.state = 'failed')::int AS failed,
            max(d.delivered_at) AS last_delivered_at
       FROM webhook_endpoints e LEFT JOIN webhook_deliveries d USING (endpoint_id)
      WHERE NOT e.deleted
      GROUP BY e.endpoint_id
      ORDER BY e.failing_since NULLS LAST, e.enabled, e.endpoint_id LIMIT $1`,
    [limit],
  );
  const attempts = await db.query(
    `SELECT a.endpoint_id, a.delivery_id, d.event_type, a.attempt, a.attempted_at, a.response_status, a.error
       FROM webhook_attempts a JOIN webhook_deliveries d USING (delivery_id)
      WHERE NOT a.succeeded ORDER BY a.attempted_at DESC LIMIT $1`,
    [limit],
  );
  return {
    endpoints: endpoints.rows.map(
      (r): EndpointHealth => ({
        endpointId: String(r.endpoint_id),
        accountId: String(r.account_id),
        url: String(r.url),
        enabled: Boolean(r.enabled),
        failingSince: iso(r.failing_since),
        pending: Number(r.pending),
        failed: Number(r.failed),
        lastDeliveredAt: iso(r.last_delivered_at),
      }),
    ),
    failingAttempts: attempts.rows.map(
      (r): FailingAttempt => ({
        endpointId: String(r.endpoint_id),
        webhookId: String(r.delivery_id),
        eventType: String(r.event_type),
        attempt: Number(r.attempt),
        attemptedAt: iso(r.attempted_at) ?? '',
        responseStatus: r.response_status === null ? null : Number(r.response_status),
        error: r.error === null ? null : String(r.error),
      }),
    ),
  };
}
