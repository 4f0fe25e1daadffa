// The event contract of a customer's webhook endpoint: stream `webhookendpoint-<endpointId>` (one word before
// the dash, like `contactaddress-`, so the stream category is exactly the endpoints). The signing secret is
// on the stream because the notifier must sign with it (an HMAC key cannot be stored as a hash), sealed
// under WEBHOOK_SECRETS_KEY; the API shows it once, at creation and rotation. Change the shapes only by adding a new schema version.
import { z } from 'zod';
import { deterministicUuid } from '../ids.ts';
import { webhookEventTypeSchema } from './event-types.ts';

const isoTimestamp = z.iso.datetime({ offset: true });

/** `whsec_` + base64 of the key bytes (Standard Webhooks); the bytes after decoding are the HMAC key. */
export const webhookSecretSchema = z.string().regex(/^whsec_[A-Za-z0-9+/]{20,}={0,2}$/);
/**
 * How events hold the secret: sealed (AES-256-GCM, `whenc_v1.<key id>.<iv>.<ciphertext+tag>`, opened by the
 * notifier with WEBHOOK_SECRETS_KEY or a previous key), or in plain text in events from before encryption.
 */
export const sealedWebhookSecretSchema = z
  .string()
  .regex(/^whenc_v1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{40,}$/);
export const storedWebhookSecretSchema = z.union([sealedWebhookSecretSchema, webhookSecretSchema]);
/** null: every event type. */
const eventTypes = z.array(webhookEventTypeSchema).nullable();

/** Where a replay starts: after a log position, or at a time (events recorded at or after it). */
export const replaySinceSchema = z.union([z.object({ position: z.string().min(1) }), z.object({ time: isoTimestamp })]);
export type ReplaySince = z.infer<typeof replaySinceSchema>;

export const webhookEndpointEventSchemas = {
  WebhookEndpointCreated: z.object({
    endpointId: z.uuid(),
    accountId: z.string().min(1),
    url: z.string().min(1),
    eventTypes,
    secret: storedWebhookSecretSchema,
    createdAt: isoTimestamp,
  }),
  /** The endpoint as it is after the change (every field, so a reader needs no earlier event but Created). */
  WebhookEndpointUpdated: z.object({
    endpointId: z.uuid(),
    accountId: z.string().min(1),
    url: z.string().min(1),
    eventTypes,
    enabled: z.boolean(),
    updatedAt: isoTimestamp,
  }),
  WebhookEndpointSecretRotated: z.object({
    endpointId: z.uuid(),
    accountId: z.string().min(1),
    secret: storedWebhookSecretSchema,
    rotatedAt: isoTimestamp,
  }),
  /** By the notifier: the endpoint answered 410 Gone, or kept failing for too long; `detail` tells the account why. */
  WebhookEndpointDisabled: z.object({
    endpointId: z.uuid(),
    accountId: z.string().min(1),
    reason: z.enum(['gone', 'failing']),
    detail: z.string().min(1),
    disabledAt: isoTimestamp,
  }),
  WebhookEndpointDeleted: z.object({ endpointId: z.uuid(), accountId: z.string().min(1), deletedAt: isoTimestamp }),
  /** Re-send history from `since` up to this event's position (the notifier reads it from the log). */
  WebhookEndpointReplayRequested: z.object({
    endpointId: z.uuid(),
    accountId: z.string().min(1),
    replayId: z.uuid(),
    since: replaySinceSchema,
    requestedAt: isoTimestamp,
  }),
} as const;

export type WebhookEndpointEventType = keyof typeof webhookEndpointEventSchemas;
export type WebhookEndpointEvent = {
  [K in WebhookEndpointEventType]: { type: K; data: z.infer<(typeof webhookEndpointEventSchemas)[K]> };
}[WebhookEndpointEventType];
export type WebhookEndpointEventOf<K extends WebhookEndpointEventType> = Extract<WebhookEndpointEvent, { type: K }>;

export const isWebhookEndpointEventType = (type: string): type is WebhookEndpointEventType =>
  type in webhookEndpointEventSchemas;

export function parseWebhookEndpointEvent(type: string, data: unknown): WebhookEndpointEvent {
  if (!isWebhookEndpointEventType(type)) throw new TypeError(`unknown webhook endpoint event type ${type}`);
  return { type, data: webhookEndpointEventSchemas[type].parse(data) } as WebhookEndpointEvent;
}

export const webhookEndpointCategory = 'webhookendpoint';
export const webhookEndpointStreamId = (endpointId: string) => `${webhookEndpointCategory}-${endpointId}`;

/** The id of the event appended as `version` of an endpoint's stream: a retried append is a no-op. */
export const webhookEndpointEventId = (endpointId: string, version: number, type: string) =>
  deterministicUuid('hatch.webhook-endpoint-event', endpointId, String(version), type);
