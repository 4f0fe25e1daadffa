// Endpoint commands and their pure decisions. Ids, times and secrets come in with the command (no clock,
// no randomness here). An endpoint of another account, a deleted one and one that never existed are all
// `not_found`, so a caller cannot tell them apart.
import type { FieldError } from '../messages/channel-rules.ts';
import type { WebhookEndpointState } from './endpoint-state.ts';
import { checkEndpointUrl, type EndpointUrlPolicy, normalisedEndpointUrl } from './endpoint-url.ts';
import type { WebhookEventType } from './event-types.ts';
import {
  type ReplaySince,
  type WebhookEndpointEventOf,
  type WebhookEndpointEventType,
  webhookEndpointEventId,
  webhookEndpointStreamId,
} from './events.ts';

export interface CreateWebhookEndpoint {
  endpointId: string;
  accountId: string;
  url: string;
  eventTypes: WebhookEventType[] | null;
  secret: string;
  createdAt: string;
}
export interface UpdateWebhookEndpoint {
  endpointId: string;
  accountId: string;
  url?: string;
  eventTypes?: WebhookEventType[] | null;
  enabled?: boolean;
  updatedAt: string;
}
export interface RotateWebhookSecret {
  endpointId: string;
  accountId: string;
  secret: string;
  rotatedAt: string;
}
export interface DisableWebhookEndpoint {
  endpointId: string;
  reason: 'gone' | 'failing';
  detail: string;
  disabledAt: string;
}
export interface DeleteWebhookEndpoint {
  endpointId: string;
  accountId: string;
  deletedAt: string;
}
export interface RequestWebhookReplay {
  endpointId: string;
  accountId: string;
  replayId: string;
  since: ReplaySince;
  requestedAt: string;
}

type Pending<K extends WebhookEndpointEventType> = WebhookEndpointEventOf<K> & { id: string };

export type WebhookEndpointDecision<K extends WebhookEndpointEventType> =
  | { ok: true; streamId: string; events: Pending<K>[] }
  | { ok: false; reason: 'invalid'; errors: FieldError[] }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'already_exists' };

function accepted<K extends WebhookEndpointEventType>(
  endpointId: string,
  version: number,
  events: WebhookEndpointEventOf<K>[],
): WebhookEndpointDecision<K> {
  return {
    ok: true,
    streamId: webhookEndpointStreamId(endpointId),
    events: events.map((e, i) => ({ ...e, id: webhookEndpointEventId(endpointId, version + 1 + i, e.type) })),
  };
}

/** The account's live endpoint, or null (unknown, another account's, deleted). */
const owned = (state: WebhookEndpointState | null, accountId: string) =>
  state && !state.deleted && state.accountId === accountId ? state : null;

export function decideCreateWebhookEndpoint(
  command: CreateWebhookEndpoint,
  state: WebhookEndpointState | null,
  policy: EndpointUrlPolicy,
): WebhookEndpointDecision<'WebhookEndpointCreated'> {
  if (state) return { ok: false, reason: 'already_exists' };
  const errors = checkEndpointUrl(command.url, policy);
  if (errors.length > 0) return { ok: false, reason: 'invalid', errors };
  return accepted(command.endpointId, -1, [
    { type: 'WebhookEndpointCreated', data: { ...command, url: normalisedEndpointUrl(command.url) } },
  ]);
}

export function decideUpdateWebhookEndpoint(
  command: UpdateWebhookEndpoint,
  state: WebhookEndpointState | null,
  policy: EndpointUrlPolicy,
): WebhookEndpointDecision<'WebhookEndpointUpdated'> {
  const endpoint = owned(state, command.accountId);
  if (!endpoint) return { ok: false, reason: 'not_found' };
  const errors = command.url === undefined ? [] : checkEndpointUrl(command.url, policy);
  if (errors.length > 0) return { ok: false, reason: 'invalid', errors };
  const url = command.url === undefined ? endpoint.url : normalisedEndpointUrl(command.url);
  const eventTypes = command.eventTypes === undefined ? endpoint.eventTypes : command.eventTypes;
  const enabled = command.enabled ?? endpoint.enabled;
  const unchanged =
    url === endpoint.url &&
    enabled === endpoint.enabled &&
    JSON.stringify(eventTypes) === JSON.stringify(endpoint.eventTypes);
  if (unchanged) return accepted(endpoint.endpointId, endpoint.version, []);
  return accepted(endpoint.endpointId, endpoint.version, [
    {
      type: 'WebhookEndpointUpdated',
      data: {
        endpointId: endpoint.endpointId,
        accountId: endpoint.accountId,
        url,
        eventTypes,
        enabled,
        updatedAt: command.updatedAt,
      },
    },
  ]);
}

export function decideRotateWebhookSecret(
  command: RotateWebhookSecret,
  state: WebhookEndpointState | null,
): WebhookEndpointDecision<'WebhookEndpointSecretRotated'> {
  const endpoint = owned(state, command.accountId);
  if (!endpoint) return { ok: false, reason: 'not_found' };
  return accepted(endpoint.endpointId, endpoint.version, [{ type: 'WebhookEndpointSecretRotated', data: command }]);
}

/** The notifier's decision; already disabled (or deleted) decides nothing. */
export function decideDisableWebhookEndpoint(
  command: DisableWebhookEndpoint,
  state: WebhookEndpointState | null,
): WebhookEndpointDecision<'WebhookEndpointDisabled'> {
  if (!state || state.deleted) return { ok: false, reason: 'not_found' };
  if (!state.enabled) return accepted(state.endpointId, state.version, []);
  return accepted(state.endpointId, state.version, [
    { type: 'WebhookEndpointDisabled', data: { ...command, accountId: state.accountId } },
  ]);
}

export function decideDeleteWebhookEndpoint(
  command: DeleteWebhookEndpoint,
  state: WebhookEndpointState | null,
): WebhookEndpointDecision<'WebhookEndpointDeleted'> {
  const endpoint = owned(state, command.accountId);
  if (!endpoint) return { ok: false, reason: 'not_found' };
  return accepted(endpoint.endpointId, endpoint.version, [{ type: 'WebhookEndpointDeleted', data: command }]);
}

export function decideRequestWebhookReplay(
  command: RequestWebhookReplay,
  state: WebhookEndpointState | null,
): WebhookEndpointDecision<'WebhookEndpointReplayRequested'> {
  const endpoint = owned(state, command.accountId);
  if (!endpoint) return { ok: false, reason: 'not_found' };
  return accepted(endpoint.endpointId, endpoint.version, [{ type: 'WebhookEndpointReplayRequested', data: command }]);
}
