import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../testing/decider-specification.ts';
import {
  decideCreateWebhookEndpoint,
  decideDisableWebhookEndpoint,
  decideRotateWebhookSecret,
  decideUpdateWebhookEndpoint,
} from './endpoint-decisions.ts';
import { webhookEndpointFold } from './endpoint-state.ts';
import type { WebhookEndpointEvent } from './events.ts';

const endpointId = '6f1c1d9e-0b7a-4f43-9a51-3c8f1f0f4e11';
const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const created: WebhookEndpointEvent = {
  type: 'WebhookEndpointCreated',
  data: {
    endpointId,
    accountId: 'acct-a',
    url: 'https://example.com/h',
    eventTypes: null,
    secret,
    createdAt: '2026-01-01T00:00:00Z',
  },
};
const at = '2026-01-02T00:00:00Z';
const local = { production: false };
const production = { production: true };

describe('webhook endpoint decisions', () => {
  it('creates with https in production and refuses http there', () => {
    const spec = deciderSpecification(webhookEndpointFold, (c: Parameters<typeof decideCreateWebhookEndpoint>[0], s) =>
      decideCreateWebhookEndpoint(c, s, production),
    );
    const command = { ...created.data, createdAt: at };
    spec
      .given([])
      .when(command)
      .thenAppends([{ type: 'WebhookEndpointCreated' }]);
    spec
      .given([])
      .when({ ...command, url: 'http://example.com/h' })
      .thenRejects({
        ok: false,
        reason: 'invalid',
        errors: [{ field: 'url', message: 'must use https in production mode' }],
      });
    expect(decideCreateWebhookEndpoint({ ...command, url: 'http://127.0.0.1:9/h' }, null, local).ok).toBe(true);
    // Stored normalised (ASCII): the log can always hold it and the notifier calls exactly it.
    const unicode = decideCreateWebhookEndpoint({ ...command, url: 'https://exämple.com/ü' }, null, local);
    expect(unicode).toMatchObject({ ok: true, events: [{ data: { url: 'https://xn--exmple-cua.com/%C3%BC' } }] });
  });

  it("treats another account's endpoint as unknown", () => {
    const state = webhookEndpointFold.evolve(null, created);
    expect(
      decideUpdateWebhookEndpoint({ endpointId, accountId: 'acct-b', enabled: false, updatedAt: at }, state, local),
    ).toEqual({ ok: false, reason: 'not_found' });
    expect(decideRotateWebhookSecret({ endpointId, accountId: 'acct-b', secret, rotatedAt: at }, state)).toEqual({
      ok: false,
      reason: 'not_found',
    });
  });

  it('changes nothing for an update that changes nothing, and disables once', () => {
    const state = webhookEndpointFold.evolve(null, created);
    expect(
      decideUpdateWebhookEndpoint({ endpointId, accountId: 'acct-a', eventTypes: null, updatedAt: at }, state, local),
    ).toMatchObject({ ok: true, events: [] });
    const disable = { endpointId, reason: 'gone' as const, detail: '410', disabledAt: at };
    const first = decideDisableWebhookEndpoint(disable, state);
    expect(first).toMatchObject({ ok: true, events: [{ type: 'WebhookEndpointDisabled' }] });
    const disabled = first.ok ? first.events.reduce(webhookEndpointFold.evolve, state) : state;
    expect(disabled?.disabledReason).toMatchObject({ reason: 'gone' });
    expect(decideDisableWebhookEndpoint(disable, disabled)).toMatchObject({ ok: true, events: [] });
    // Re-enabling clears why it was disabled.
    const enabled = decideUpdateWebhookEndpoint(
      { endpointId, accountId: 'acct-a', enabled: true, updatedAt: at },
      disabled,
      local,
    );
    const after = enabled.ok ? enabled.events.reduce(webhookEndpointFold.evolve, disabled) : null;
    expect(after).toMatchObject({ enabled: true, disabledReason: null });
  });
});
