// /api/webhook-endpoints: an account's endpoints for signed event webhooks. Endpoints are events on
// `webhookendpoint-<id>` (decisions in @hatch/domain); attempts are the notifier's records
// (@hatch/webhooks). Another account's endpoint answers exactly like an unknown one (404).
import { randomBytes } from 'node:crypto';
import { handleCommand } from '@hatch/commands';
import {
  decideCreateWebhookEndpoint,
  decideDeleteWebhookEndpoint,
  decideRequestWebhookReplay,
  decideRotateWebhookSecret,
  decideUpdateWebhookEndpoint,
  foldEvents,
  generateWebhookSecret,
  newId,
  type WebhookEndpointDecision,
  type WebhookEndpointEventType,
  type WebhookEndpointState,
  webhookEndpointCategory,
  webhookEndpointFold,
  webhookEndpointStreamId,
} from '@hatch/domain';
import type { RecordedEvent } from '@hatch/event-store';
import { Problem } from '@hatch/http';
import { listAttempts, retryAttemptDelivery } from '@hatch/webhooks';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { invalidPayload } from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';
import {
  attemptListView,
  attemptParams,
  attemptsQuery,
  createdEndpointView,
  createEndpointPayload,
  endpointAnswer,
  endpointListView,
  endpointParams,
  endpointView,
  replayPayload,
  replaySince,
  replayView,
  retryView,
  rotatedSecretView,
  updateEndpointPayload,
} from './webhook-endpoint-payloads.ts';

const tags = ['webhook endpoints'];
const security = [{ bearer: [] }];
const notFound = () => new Problem(404, 'not-found', 'Webhook endpoint not found', { detail: 'no such endpoint' });

function rejected<K extends WebhookEndpointEventType>(decision: Exclude<WebhookEndpointDecision<K>, { ok: true }>) {
  if (decision.reason === 'invalid') return invalidPayload(decision.errors);
  if (decision.reason === 'already_exists') return new Problem(409, 'conflict', 'Endpoint id already used');
  return notFound();
}

export const webhookEndpointRoutes: FastifyPluginAsyncZod<CommandRouteOptions> = async (app, { deps, log }) => {
  const ids = deps.newId ?? newId;
  const policy = { production: deps.config.production };
  const now = () => deps.clock.now().toISOString();
  const secrets = deps.config.webhookSecrets.box;
  const meta = (request: FastifyRequest) => ({
    correlationId: request.id,
    causationId: null,
    actor: request.accountId,
  });

  /** The caller's live endpoint, or 404. */
  async function ownedEndpoint(request: FastifyRequest, endpointId: string): Promise<WebhookEndpointState> {
    const state = foldEvents(webhookEndpointFold, await log.readStream(webhookEndpointStreamId(endpointId)));
    if (!state || state.deleted || state.accountId !== request.accountId) throw notFound();
    return state;
  }

  const attemptsTable = () => {
    if (!deps.webhookDeliveries)
      throw new Problem(503, 'unavailable', 'Delivery records unavailable', {
        detail: 'this instance has no DATABASE_URL for the notifier tables',
      });
    return deps.webhookDeliveries;
  };

  app.post(
    '/api/webhook-endpoints',
    {
      schema: {
        summary: 'Register a webhook endpoint',
        description:
          'Hatch posts the account’s events to it, signed (Standard Webhooks). The secret is shown only in this answer. Production: https only.',
        tags,
        security,
        body: createEndpointPayload,
        response: { 201: createdEndpointView },
      },
    },
    async (request, reply) => {
      const endpointId = ids();
      // Shown once in the answer; the log holds it sealed under WEBHOOK_SECRETS_KEY, bound to this endpoint.
      const secret = generateWebhookSecret(randomBytes);
      const command = {
        endpointId,
        accountId: request.accountId,
        url: request.body.url,
        eventTypes: request.body.events ?? null,
        secret: secrets.seal(secret, endpointId),
        createdAt: now(),
      };
      const { decision, result } = await handleCommand(log, {
        streamId: webhookEndpointStreamId(endpointId),
        fold: webhookEndpointFold,
        decide: (state) => decideCreateWebhookEndpoint(command, state, policy),
        metadata: meta(request),
        concurrency: 'no_stream',
      });
      if (!decision.ok) throw rejected(decision);
      const created = foldEvents(webhookEndpointFold, decision.events) as WebhookEndpointState;
      request.log.info({ endpointId }, 'webhook endpoint registered');
      return reply.code(201).send({ ...endpointAnswer(created), secret, position: result?.position ?? '' });
    },
  );

  app.get(
    '/api/webhook-endpoints',
    { schema: { summary: 'List webhook endpoints', tags, security, response: { 200: endpointListView } } },
    async (request) => {
      // Read from the log's endpoint category (exact, no projection lag); endpoints are few per account.
      const streams = new Map<string, RecordedEvent[]>();
      let after: string | null = null;
      for (;;) {
        const page: RecordedEvent[] = await log.readAll({ category: webhookEndpointCategory, after, limit: 1000 });
        for (const e of page) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
        if (page.length < 1000) break;
        after = page.at(-1)?.position ?? null;
      }
      const data = [...streams.values()]
        .map((events) => foldEvents(webhookEndpointFold, events))
        .filter((s): s is WebhookEndpointState => !!s && !s.deleted && s.accountId === request.accountId)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        .map(endpointAnswer);
      return { data };
    },
  );

  app.get(
    '/api/webhook-endpoints/:id',
    {
      schema: {
        summary: 'A webhook endpoint',
        description: 'Includes why Hatch disabled it, if it did.',
        tags,
        security,
        params: endpointParams,
        response: { 200: endpointView },
      },
    },
    async (request) => endpointAnswer(await ownedEndpoint(request, request.params.id)),
  );

  app.patch(
    '/api/webhook-endpoints/:id',
    {
      schema: {
        summary: 'Change a webhook endpoint',
        description: 'url, events (null: all) and enabled; re-enabling resumes the deliveries that were waiting.',
        tags,
        security,
        params: endpointParams,
        body: updateEndpointPayload,
        response: { 200: endpointView },
      },
    },
    async (request) => {
      const { url, events, enabled } = request.body;
      const command = {
        endpointId: request.params.id,
        accountId: request.accountId,
        ...(url !== undefined ? { url } : {}),
        ...(events !== undefined ? { eventTypes: events } : {}),
        ...(enabled !== undefined ? { enabled } : {}),
        updatedAt: now(),
      };
      const { decision, state } = await handleCommand(log, {
        streamId: webhookEndpointStreamId(request.params.id),
        fold: webhookEndpointFold,
        decide: (s) => decideUpdateWebhookEndpoint(command, s, policy),
        metadata: meta(request),
      });
      if (!decision.ok) throw rejected(decision);
      const after = decision.events.reduce(
        (s, e) => webhookEndpointFold.evolve(s, e),
        state as WebhookEndpointState | null,
      );
      return endpointAnswer(after as WebhookEndpointState);
    },
  );

  app.delete(
    '/api/webhook-endpoints/:id',
    { schema: { summary: 'Delete a webhook endpoint', tags, security, params: endpointParams } },
    async (request, reply) => {
      const command = { endpointId: request.params.id, accountId: request.accountId, deletedAt: now() };
      const { decision } = await handleCommand(log, {
        streamId: webhookEndpointStreamId(request.params.id),
        fold: webhookEndpointFold,
        decide: (s) => decideDeleteWebhookEndpoint(command, s),
        metadata: meta(request),
      });
      if (!decision.ok) throw rejected(decision);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        summary: 'Rotate the signing secret',
        description: 'Deliveries from now on are signed with the new secret, shown only in this answer.',
        tags,
        security,
        params: endpointParams,
        response: { 200: rotatedSecretView },
      },
    },
    async (request) => {
      const secret = generateWebhookSecret(randomBytes);
      const command = {
        endpointId: request.params.id,
        accountId: request.accountId,
        secret: secrets.seal(secret, request.params.id),
        rotatedAt: now(),
      };
      const { decision, result } = await handleCommand(log, {
        streamId: webhookEndpointStreamId(request.params.id),
        fold: webhookEndpointFold,
        decide: (s) => decideRotateWebhookSecret(command, s),
        metadata: meta(request),
      });
      if (!decision.ok) throw rejected(decision);
      return { id: command.endpointId, secret, position: result?.position ?? '' };
    },
  );

  app.get(
    '/api/webhook-endpoints/:id/attempts',
    {
      schema: {
        summary: 'Delivery attempts to an endpoint',
        description: 'Newest first: status, response code, latency and the next retry. `failed=true`: failures only.',
        tags,
        security,
        params: endpointParams,
        querystring: attemptsQuery,
        response: { 200: attemptListView },
      },
    },
    async (request) => {
      await ownedEndpoint(request, request.params.id);
      const data = await listAttempts(attemptsTable(), request.params.id, {
        limit: request.query.limit,
        failedOnly: request.query.failed,
      });
      return { data };
    },
  );

  app.post(
    '/api/webhook-endpoints/:id/attempts/:attemptId/retry',
    {
      schema: {
        summary: 'Send an attempt’s event again now',
        description: 'Same webhook-id and body; the notifier sends it within its poll interval.',
        tags,
        security,
        params: attemptParams,
        response: { 202: retryView },
      },
    },
    async (request, reply) => {
      await ownedEndpoint(request, request.params.id);
      const webhookId = await retryAttemptDelivery(attemptsTable(), request.params.id, request.params.attemptId);
      if (!webhookId) throw new Problem(404, 'not-found', 'Attempt not found', { detail: 'no such attempt' });
      return reply.code(202).send({ webhookId, status: 'queued' as const });
    },
  );

  app.post(
    '/api/webhook-endpoints/:id/replay',
    {
      schema: {
        summary: 'Re-send history to an endpoint',
        description:
          'Every event of this account after a log position (or recorded at or after an ISO-8601 time) up to now is sent again, with its original webhook-id and body.',
        tags,
        security,
        params: endpointParams,
        body: replayPayload,
        response: { 202: replayView },
      },
    },
    async (request, reply) => {
      const since = replaySince(request.body.since);
      // A position the log cannot read would stop the notifier on the replay event: refuse it here.
      if ('position' in since)
        await deps.eventStore.readAll({ after: since.position, limit: 1 }).catch((error: unknown) => {
          if (error instanceof TypeError)
            throw invalidPayload([{ field: 'since', message: 'is neither a log position nor an ISO-8601 time' }]);
          throw error;
        });
      const command = {
        endpointId: request.params.id,
        accountId: request.accountId,
        replayId: ids(),
        since,
        requestedAt: now(),
      };
      const { decision, result } = await handleCommand(log, {
        streamId: webhookEndpointStreamId(request.params.id),
        fold: webhookEndpointFold,
        decide: (s) => decideRequestWebhookReplay(command, s),
        metadata: meta(request),
      });
      if (!decision.ok) throw rejected(decision);
      return reply.code(202).send({ replayId: command.replayId, position: result?.position ?? '' });
    },
  );
};
