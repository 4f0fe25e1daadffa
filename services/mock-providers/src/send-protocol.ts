// How a mock answers one send and reports its delivery, per wire protocol: the scaffold's JSON
// (`/v1/messages`, `/v3/mail/send` with receipts to `/api/webhooks/*/status`), Twilio's
// (`/2010-04-01/Accounts/{sid}/Messages.json`, status callbacks) and SendGrid's (Mail Send, Event Webhook).
// The send path itself (idempotency, faults, magic recipients) is one, in provider-server.ts.

export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  payload: unknown;
}

/** What the provider received under one idempotency key. */
export interface ReceivedMessage {
  idempotencyKey: string | null;
  /** Our message id, as sent in the payload. */
  messageId: string | null;
  providerMessageId: string | null;
  /** The wire protocol the send came in on. */
  protocol: 'scaffold' | 'twilio' | 'sendgrid';
  from: string;
  to: string;
  type: string;
  body: string;
  /** Twilio: `StatusCallback`; SendGrid: the content parts' types. */
  statusCallback: string | null;
  contentTypes: string[];
  outcome: 'accepted' | 'rejected';
  httpStatus: number;
  receivedAt: number;
  /** Later sends with the same idempotency key (each got the first answer). */
  repeats: number;
}

export interface SendContent {
  messageId: string | null;
  from: string;
  to: string;
  type: string;
  body: string;
  statusCallback?: string | null;
  contentTypes?: string[];
}

export interface SendProtocol {
  name: ReceivedMessage['protocol'];
  accept(providerMessageId: string, message: SendContent): StoredAnswer;
  reject(message: SendContent): StoredAnswer;
  tooMany(retryAfterSeconds: number): StoredAnswer;
  serverError(): StoredAnswer;
  /** Posts the delivery receipt(s) for an accepted send after `delayMs`. */
  receipt(record: ReceivedMessage, failed: boolean, delayMs: number): void;
}

export const jsonAnswer = (status: number, payload: unknown, headers: Record<string, string> = {}): StoredAnswer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  payload,
});
