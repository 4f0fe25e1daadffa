// The one inbound path every provider protocol goes through: an inbound message (routed to the account
// owning `to`, refused 422 recipient-not-owned in production), its STOP/START keyword, a consent change, a
// delivery receipt. Route files (scaffold JSON, Twilio, SendGrid) only translate their payloads to these.
import { type CommandMetadata, handleCommand } from '@hatch/commands';
import {
  type Channel,
  type ConsentChange,
  consentFold,
  decideDeliveryReceipt,
  decideInboundKeyword,
  decideReceive,
  decideSend,
  linkedMessageId,
  localAccountId,
  messageFold,
  messageStreamId,
  providerMessageStreamId,
  type RecordDeliveryReceipt,
} from '@hatch/domain';
import { WrongExpectedVersionError } from '@hatch/event-store';
import { Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import type { AccountDirectory } from './account-directory.ts';
import { invalidPayload } from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';

export type InboundContent = Omit<Parameters<typeof decideReceive>[0]['data'], 'accountId'>;

export function inboundCommands({ deps, log }: CommandRouteOptions) {
  const metadata = (request: FastifyRequest, actor: string, causationId: string | null = null): CommandMetadata => ({
    correlationId: request.id,
    causationId,
    actor,
  });

  const directory = deps.directory as AccountDirectory;
  const unrouted = deps.registry
    ? new Counter({
        name: 'hatch_inbound_unrouted_total',
        help: 'Inbound messages refused because no account owns their `to`, by channel',
        labelNames: ['channel'] as const,
        registers: [deps.registry],
      })
    : null;

  /**
   * The account owning `to`; in local mode an unowned `to` is the local account's. Otherwise 422: the
   * webhook is well-formed and reached the right URL (not a 404), but names a recipient no account has,
   * and a provider retrying it would be refused the same way.
   */
  async function routeInbound(channel: Channel, to: string): Promise<string> {
    const owner = await directory.ownerOf(channel, to);
    if (owner) return owner;
    if (!deps.config.production) return localAccountId;
    unrouted?.inc({ channel });
    throw new Problem(422, 'recipient-not-owned', 'Recipient not owned', {
      detail: 'no account owns the address this message was sent to',
      errors: [{ field: 'body.to', message: 'is not a sender of any account' }],
    });
  }

  async function receive(
    request: FastifyRequest,
    provider: string,
    providerMessageId: string,
    content: Omit<Parameters<typeof decideReceive>[0]['data'], 'accountId'>,
  ) {
    // Validated first (the account is not known yet), then routed to the account owning `to`.
    const validated = decideReceive({ type: 'ReceiveMessage', data: { ...content, accountId: localAccountId } });
    if (!validated.ok)
      throw validated.reason === 'invalid'
        ? invalidPayload(validated.errors)
        : new Problem(404, 'not-found', 'Not Found');
    const received = (validated.events[0] as (typeof validated.events)[number]).data;
    const accountId = await routeInbound(received.channel, received.to);
    const decision = decideReceive({ type: 'ReceiveMessage', data: { ...content, accountId } });
    if (!decision.ok) throw invalidPayload([]);
    const event = decision.events[0] as (typeof decision.events)[number];
    let position: string;
    try {
      // The id derives from the provider's: a re-delivery is the same event (a duplicate, nothing written).
      const { result } = await handleCommand(log, {
        streamId: decision.streamId,
        fold: messageFold,
        decide: () => decision,
        metadata: metadata(request, provider),
        concurrency: 'no_stream',
      });
      position = result?.position ?? '';
      if (result?.duplicate) request.log.info({ messageId: decision.messageId, provider }, 'webhook re-delivered');
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const [first] = await log.readStream(decision.streamId);
      position = first?.position ?? '';
    }
    request.log.info({ messageId: decision.messageId, provider, providerMessageId }, 'message received');
    // Also on a re-delivery: a crash after the MessageReceived append must not lose the STOP. Every
    // append below has a deterministic id, so doing it twice records it once.
    await answerKeyword(request, event.data);
    return { id: decision.messageId, conversationId: event.data.conversationId, status: 'received' as const, position };
  }

  async function recordConsentChange(request: FastifyRequest, change: ConsentChange, actor: string) {
    // Consent changes are facts in arrival order (STOP then START): no version to expect.
    const { result } = await handleCommand(log, {
      streamId: change.streamId,
      fold: consentFold,
      decide: () => ({ ok: true as const, streamId: change.streamId, events: [change.event] }),
      metadata: metadata(request, actor),
      concurrency: 'any',
    });
    const { position, duplicate } = result ?? { position: '', duplicate: false };
    request.log.info({ event: change.event.type, channel: change.event.data.channel, duplicate }, 'consent changed');
    return { position };
  }

  /** STOP/START record the change first (so the opt-out holds even if the reply fails), then reply. */
  async function answerKeyword(request: FastifyRequest, received: Parameters<typeof decideInboundKeyword>[0]) {
    const outcome = decideInboundKeyword(received, deps.config.consentReplyWindowMs);
    if (!outcome) return;
    if (outcome.change) await recordConsentChange(request, outcome.change, received.provider);
    // Automatic replies go only from a sender some account owns (the local account stands in locally).
    if (deps.config.production && !(await directory.ownerOf(received.channel, received.to))) return;
    const reply = decideSend(outcome.reply);
    if (!reply.ok) {
      request.log.warn({ messageId: received.messageId }, 'consent reply could not be decided');
      return;
    }
    try {
      await handleCommand(log, {
        streamId: reply.streamId,
        fold: messageFold,
        decide: () => reply,
        metadata: metadata(request, 'consent', received.messageId),
        concurrency: 'no_stream',
      });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error; // already replied
    }
  }

  async function recordReceipt(request: FastifyRequest, receipt: RecordDeliveryReceipt['data']) {
    // Receipts may race the dispatcher's own events: recorded in any order, they count only once their
    // MessageSent is in the stream (receipt-matching.ts), so no version is expected.
    let matched = false;
    const { decision, result } = await handleCommand(log, {
      streamId: messageStreamId(receipt.messageId),
      fold: messageFold,
      decide: (state) => {
        matched = state !== null && receipt.providerMessageId in state.receipts.sent;
        return decideDeliveryReceipt({ type: 'RecordDeliveryReceipt', data: receipt }, state);
      },
      metadata: metadata(request, receipt.provider),
      concurrency: 'any',
      traceInStream: 'receipt',
    });
    if (!decision.ok)
      throw decision.reason === 'not_found'
        ? new Problem(404, 'message-not-found', 'Unknown message', { detail: decision.detail })
        : invalidPayload(decision.errors);
    const event = decision.events[0] as (typeof decision.events)[number];
    request.log.info(
      { messageId: receipt.messageId, event: event.type, duplicate: result?.duplicate, applied: matched },
      matched ? 'receipt recorded' : 'receipt recorded and held until its MessageSent',
    );
    return { id: receipt.messageId, event: event.type, position: result?.position ?? '', applied: matched };
  }

  /**
   * Our message named by a provider's message id, from the link the dispatcher appends before MessageSent
   * (read from the log: no projection lag); null when no send of ours has that id (yet).
   */
  async function messageIdOf(provider: string, providerMessageId: string): Promise<string | null> {
    return linkedMessageId(await log.readStream(providerMessageStreamId(provider, providerMessageId)));
  }

  return { receive, recordReceipt, recordConsentChange, messageIdOf };
}

export type InboundCommands = ReturnType<typeof inboundCommands>;
