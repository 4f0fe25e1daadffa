// An endpoint folded from its stream: what the endpoint decisions are made on and what the API shows.
// `version` is the stream version the state reflects (-1: no stream yet).
import type { Fold } from '../decider.ts';
import type { WebhookEventType } from './event-types.ts';
import { isWebhookEndpointEventType, parseWebhookEndpointEvent, type WebhookEndpointEvent } from './events.ts';

export interface WebhookEndpointState {
  endpointId: string;
  accountId: string;
  url: string;
  eventTypes: WebhookEventType[] | null;
  secret: string;
  enabled: boolean;
  /** Why the notifier disabled it (null: enabled, or disabled by the account). */
  disabledReason: { reason: 'gone' | 'failing'; detail: string; disabledAt: string } | null;
  deleted: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** Null until `WebhookEndpointCreated`. */
export function evolveWebhookEndpoint(
  state: WebhookEndpointState | null,
  event: WebhookEndpointEvent,
): WebhookEndpointState | null {
  if (event.type === 'WebhookEndpointCreated') {
    const { endpointId, accountId, url, eventTypes, secret, createdAt } = event.data;
    return {
      endpointId,
      accountId,
      url,
      eventTypes,
      secret,
      enabled: true,
      disabledReason: null,
      deleted: false,
      createdAt,
      updatedAt: createdAt,
      version: (state?.version ?? -1) + 1,
    };
  }
  if (!state) return state;
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'WebhookEndpointUpdated': {
      const { url, eventTypes, enabled, updatedAt } = event.data;
      const disabledReason = enabled ? null : state.disabledReason;
      return { ...next, url, eventTypes, enabled, disabledReason, updatedAt };
    }
    case 'WebhookEndpointSecretRotated':
      return { ...next, secret: event.data.secret, updatedAt: event.data.rotatedAt };
    case 'WebhookEndpointDisabled': {
      const { reason, detail, disabledAt } = event.data;
      return { ...next, enabled: false, disabledReason: { reason, detail, disabledAt }, updatedAt: disabledAt };
    }
    case 'WebhookEndpointDeleted':
      return { ...next, deleted: true, enabled: false, updatedAt: event.data.deletedAt };
    default:
      return next;
  }
}

export const webhookEndpointFold: Fold<WebhookEndpointState | null, WebhookEndpointEvent> = {
  initialState: () => null,
  evolve: evolveWebhookEndpoint,
  parse: (type, data) => (isWebhookEndpointEventType(type) ? parseWebhookEndpointEvent(type, data) : null),
};
