// pino JSON logs for every process. Secrets are redacted by path; phone numbers and emails are
// masked in every logged string; message bodies are never logged by our code (log ids instead).
import pino, { type Logger } from 'pino';
import { maskPii, maskValue } from './masking.ts';

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
        log: (object) => maskValue(object) as Record<string, unknown>,
      },
      hooks: {
        // Mask the message string too (pino formats it separately from the object).
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskPii(a) : a)) as Parameters<typeof method>;
          method.apply(this, masked);
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
