// pino JSON logs for every process. Secrets are redacted by path; phone numbers and emails are
// masked in every logged string; message bodies are never logged by our code (log ids instead).
import pino, { type Logger } from 'pino';
import { maskJsonLine, maskKnownFields } from './masking.ts';
import { traceLogFields, tracingConfigured } from './tracing.ts';

export type { Logger } from 'pino';

export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-hatch-signature"]',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.webhookSecret',
  '*.body',
  'body',
];

export function createLogger(
  service: string,
  options: { level?: string; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    {
      name: service,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: redactedPaths, censor: '[redacted]' },
      formatters: {
        log: maskKnownFields,
        bindings: maskKnownFields,
      },
      hooks: {
        // The finished line: pino adds the message, serialises errors (message and stack apart) and
        // requests after the formatters run, so only here is every string in its final form.
        streamWrite: maskJsonLine,
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Lines written inside a span join its trace; with tracing off there is no mixin to call at all.
      ...(tracingConfigured() ? { mixin: traceLogFields } : {}),
    },
    options.destination,
  );
}
