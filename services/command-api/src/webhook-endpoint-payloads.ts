// The published shapes of /api/webhook-endpoints and the webhooks section of the OpenAPI document (the
// bodies Hatch posts to customer endpoints).
import {
  consentWebhookPayloadSchema,
  messageWebhookPayloadSchema,
  type WebhookEndpointState,
  webhookEventTypeSchema,
  webhookEventTypes,
} from '@hatch/domain';
import { z } from 'zod';

const endpointUrl = z.string().min(1).max(2048).meta({ example: 'https://example.com/hatch/webhooks' });
const eventTypes = z
  .array(webhookEventTypeSchema)
  .min(1)
  .max(webhookEventTypes.length)
  .refine((types) => new Set(types).size === types.length, { error: 'must not repeat an event type' });

export const createEndpointPayload = z.strictObject({
  url: endpointUrl,
  /** Absent or null: every event type. */
  events: eventTypes.nullish().describe('Event types to receive; absent or null: all of them'),
});
export const updateEndpointPayload = z
  .strictObject({ url: endpointUrl.optional(), events: eventTypes.nullish(), enabled: z.boolean().optional() })
  .refine((p) => Object.keys(p).length > 0, { error: 'name at least one of url, events, enabled' });

const isoTime = z.iso.datetime({ offset: true });
/** A log position (as command responses and `/attempts` show them) or an ISO-8601 time. */
export const replayPayload = z.strictObject({
  since: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[0-9A-Za-z:._/+-]+$/, { error: 'must be a log position or an ISO-8601 time' })
    .meta({ example: '2026-11-01T00:00:00Z' }),
});

export const endpointParams = z.object({ id: z.uuid() });
export const attemptParams = z.object({ id: z.uuid(), attemptId: z.uuid() });
export const attemptsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  failed: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export const endpointView = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.string()).nullable(),
  enabled: z.boolean(),
  /** Why Hatch disabled it (410 Gone, or failing for days); null otherwise. */
  disabled: z.object({ reason: z.enum(['gone', 'failing']), detail: z.string(), at: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const createdEndpointView = endpointView.extend({
  secret: z.string().describe('whsec_…: shown only here and on rotate-secret'),
  position: z.string(),
});
export const endpointListView = z.object({ data: z.array(endpointView) });
export const rotatedSecretView = z.object({ id: z.uuid(), secret: z.string(), position: z.string() });

export const attemptView = z.object({
  attemptId: z.uuid(),
  webhookId: z.string(),
  eventId: z.uuid(),
  eventType: z.string(),
  attempt: z.number().int(),
  attemptedAt: z.string(),
  latencyMs: z.number().int(),
  responseStatus: z.number().int().nullable(),
  succeeded: z.boolean(),
  error: z.string().nullable(),
  deliveryState: z.enum(['pending', 'delivered', 'failed']),
  nextAttemptAt: z.string().nullable(),
});
export const attemptListView = z.object({ data: z.array(attemptView) });
export const retryView = z.object({ webhookId: z.string(), status: z.literal('queued') });
export const replayView = z.object({ replayId: z.uuid(), position: z.string() });

export const endpointAnswer = (s: WebhookEndpointState): z.infer<typeof endpointView> => ({
  id: s.endpointId,
  url: s.url,
  events: s.eventTypes,
  enabled: s.enabled,
  disabled: s.disabledReason
    ? { reason: s.disabledReason.reason, detail: s.disabledReason.detail, at: s.disabledReason.disabledAt }
    : null,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

/** `since` as the replay event states it. */
export const replaySince = (since: string) =>
  isoTime.safeParse(since).success ? { time: new Date(since).toISOString() } : { position: since };

const headers = {
  'webhook-id': { schema: { type: 'string' }, description: 'Stable per event and endpoint across retries' },
  'webhook-timestamp': { schema: { type: 'integer' }, description: 'Seconds since the epoch, signed' },
  'webhook-signature': {
    schema: { type: 'string' },
    description: 'v1,<base64 HMAC-SHA256 of "id.timestamp.body" keyed with the base64-decoded whsec_ secret>',
  },
};

/** OpenAPI 3.1 `webhooks`: one entry per event type, the body it carries. */
export function webhooksDocument(): Record<string, unknown> {
  const messageSchema = z.toJSONSchema(messageWebhookPayloadSchema);
  const consentSchema = z.toJSONSchema(consentWebhookPayloadSchema);
  return Object.fromEntries(
    webhookEventTypes.map((type) => [
      type,
      {
        post: {
          summary: `${type} (Standard Webhooks)`,
          description:
            'Posted to every enabled endpoint of the account that subscribed to this type; retried with backoff for about a day until a 2xx. 410 Gone disables the endpoint.',
          parameters: Object.entries(headers).map(([name, h]) => ({ name, in: 'header', required: true, ...h })),
          requestBody: {
            required: true,
            content: { 'application/json': { schema: type.startsWith('contact.') ? consentSchema : messageSchema } },
          },
          responses: { '200': { description: 'Any 2xx acknowledges the delivery' } },
        },
      },
    ]),
  );
}
