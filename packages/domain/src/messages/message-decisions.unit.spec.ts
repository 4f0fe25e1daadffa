// Message decisions in given / when / then form: the stream's past folded with the handler's fold.
// The test kit's builders (it depends on this package; only specs import it back).
import { messageRequested, messageSent } from '@hatch/testing/events';
import { describe, expect, it } from 'vitest';
import { localAccountId } from '../accounts/local-account.ts';
import { inboundMessageId, messageEventId } from '../ids.ts';
import { deciderSpecification } from '../testing/decider-specification.ts';
import {
  type CancelMessage,
  decideCancel,
  decideDeliveryReceipt,
  decideReceive,
  decideSend,
  type ReceiveMessage,
  type RecordDeliveryReceipt,
  type SendMessage,
} from './commands.ts';
import type { MessageEvent } from './events.ts';
import { messageFold } from './message-state.ts';

const messageId = '6f1c2a7e-0d7b-4a59-9a3e-1f2b3c4d5e6f';
const conversationId = '0b6c1f32-5d8a-5e0f-8a6b-7c9d0e1f2a3b';
const at = (s: number) => new Date(Date.UTC(2024, 10, 1, 14, 0, s)).toISOString();

const requested = (sendAt?: string): MessageEvent => ({
  type: 'MessageRequested',
  data: messageRequested({
    messageId,
    conversationId,
    from: '+12016661234',
    to: '+18045551234',
    body: 'hello',
    timestamp: at(0),
    clientId: 'acme',
    requestedAt: at(0),
    ...(sendAt ? { sendAt } : {}),
  }),
});
const sent: MessageEvent = {
  type: 'MessageSent',
  data: messageSent(messageId, { provider: 'backup-sms', providerMessageId: 'p-1', sentAt: at(2) }),
};

describe('sending (a new stream: decided on the initial state)', () => {
  const send = deciderSpecification(messageFold, (command: SendMessage) => decideSend(command));
  const command = (over: Partial<SendMessage['data']> = {}): SendMessage => ({
    type: 'SendMessage',
    data: {
      messageId,
      clientId: 'acme',
      requestedAt: at(0),
      channel: 'sms',
      from: '+1 (201) 666-1234',
      to: '+18045551234',
      body: 'hello',
      attachments: [],
      timestamp: at(0),
      ...over,
    },
  });

  it('requests the message with normalised addresses and a deterministic id', () => {
    send
      .given([])
      .when(command())
      .thenAppends([
        {
          id: messageEventId(messageId, 'MessageRequested'),
          type: 'MessageRequested',
          data: expect.objectContaining({ messageId, from: '+12016661234', segments: 1, clientId: 'acme' }),
        },
      ]);
  });

  it('refuses a send scheduled less than a minute ahead, naming the field', () => {
    send
      .given([])
      .when(command({ sendAt: at(30) }))
      .thenRejects({
        ok: false,
        reason: 'invalid',
        errors: [{ field: 'sendAt', message: 'must be between 1 minute and 35 days from now' }],
      });
  });
});

describe('cancelling a scheduled send', () => {
  const cancel = deciderSpecification(messageFold, decideCancel);
  const command = (clientId = 'acme'): CancelMessage => ({
    type: 'CancelMessage',
    data: { messageId, clientId, cancelledAt: at(10) },
  });

  it('cancels while it is still scheduled', () => {
    cancel
      .given([requested(at(3600))])
      .when(command())
      .thenAppends([
        {
          id: messageEventId(messageId, 'MessageCancelled'),
          type: 'MessageCancelled',
          data: { messageId, clientId: 'acme', cancelledAt: at(10) },
        },
      ]);
  });

  it('refuses once dispatch began, and answers a second cancel as done', () => {
    const started: MessageEvent = { type: 'MessageDispatchStarted', data: { messageId, startedAt: at(5) } };
    cancel
      .given([requested(at(3600)), started])
      .when(command())
      .thenRejects({ ok: false, reason: 'not_cancellable', status: 'queued' });
    const cancelled: MessageEvent = {
      type: 'MessageCancelled',
      data: { messageId, clientId: 'acme', cancelledAt: at(5) },
    };
    cancel
      .given([requested(at(3600)), cancelled])
      .when(command())
      .thenRejects({ ok: false, reason: 'already_cancelled', status: 'cancelled' });
  });

  it("treats another client's message, and no message at all, as not found", () => {
    cancel
      .given([requested(at(3600))])
      .when(command('someone-else'))
      .thenRejects({ ok: false, reason: 'not_found', status: null });
    cancel.given([]).when(command()).thenRejects({ ok: false, reason: 'not_found', status: null });
  });
});

describe('inbound messages and receipts', () => {
  it('derives an inbound id from the provider ids, so a re-delivery decides the same event', () => {
    const receive = deciderSpecification(messageFold, (command: ReceiveMessage) => decideReceive(command));
    const command: ReceiveMessage = {
      type: 'ReceiveMessage',
      data: {
        channel: 'sms',
        from: '+18045551234',
        to: '+12016661234',
        body: 'hi',
        attachments: [],
        timestamp: at(0),
        provider: 'messaging-provider',
        providerMessageId: 'in-1',
        accountId: localAccountId,
        receivedAt: at(1),
      },
    };
    const id = inboundMessageId('messaging-provider', 'in-1');
    receive
      .given([])
      .when(command)
      .thenAppends([
        {
          id: messageEventId(id, 'MessageReceived'),
          type: 'MessageReceived',
          data: expect.objectContaining({ messageId: id }),
        },
      ]);
  });

  const receipt = deciderSpecification(messageFold, decideDeliveryReceipt);
  const delivered: RecordDeliveryReceipt = {
    type: 'RecordDeliveryReceipt',
    data: {
      messageId,
      provider: 'messaging-provider',
      providerMessageId: 'p-1',
      outcome: 'delivered',
      providerStatus: 'delivered',
      reason: null,
      errorCode: null,
      reportedAt: at(9),
    },
  };

  it('credits the provider that took the message (the backup after a failover)', () => {
    receipt
      .given([requested(), sent])
      .when(delivered)
      .thenAppends([
        {
          id: messageEventId(messageId, 'MessageDelivered', 'backup-sms\u0000p-1\u0000delivered'),
          type: 'MessageDelivered',
          data: { messageId, provider: 'backup-sms', providerMessageId: 'p-1', deliveredAt: at(9) },
        },
      ]);
  });

  it('refuses a receipt for a message it never sent', () => {
    receipt
      .given([])
      .when(delivered)
      .thenRejects({ ok: false, reason: 'not_found', detail: `no outbound message ${messageId}` });
  });
});
