export { loadConfig } from './config.ts';
export type { Logger } from './logger.ts';
export { createLogger, redactedPaths } from './logger.ts';
export { maskAddress, maskJsonLine, maskKnownFields, maskPii } from './masking.ts';
export { createMetricsRegistry } from './metrics.ts';
export {
  sameSecret,
  sendGridSignatureHeader,
  sendGridTimestampHeader,
  signSendGridEvents,
  twilioSignature,
  twilioSignatureHeader,
  verifySendGridSignature,
  verifyTwilioSignature,
} from './provider-signatures.ts';
export type { SecretBoxEnv } from './secret-box.ts';
export {
  developmentSecretsKey,
  isSealedSecret,
  missingSecretsKey,
  SecretBox,
  secretBoxEnvSchema,
  secretBoxFrom,
  secretKeyId,
} from './secret-box.ts';
export { failStartup } from './startup.ts';
export type { Span, SpanOptions, TraceCarrier, TracedEvent } from './tracing.ts';
export {
  nameServerSpan,
  recordEventSpans,
  SpanKind,
  traceAttributes,
  traceContextFrom,
  traceLogFields,
  traceMetadata,
  tracingConfigured,
  withEventSpan,
  withSpan,
} from './tracing.ts';
export type { TurnBatchOptions } from './turn-batches.ts';
export { batchPerTurn } from './turn-batches.ts';
export type { SignatureCheck } from './webhook-signature.ts';
export {
  signatureHeader,
  signWebhook,
  timestampHeader,
  verifyWebhookSignature,
  webhookHeaders,
} from './webhook-signature.ts';
