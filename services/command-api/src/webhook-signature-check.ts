// Provider webhooks prove who sent them: HMAC-SHA256 over "<X-Hatch-Timestamp>.<raw body>" whenever a
// secret is configured. Installed on the provider scope where route groups are registered; that scope
// keeps the raw bytes, since the signature covers them and not a re-serialisation.
import { Problem } from '@hatch/http';
import { verifyWebhookSignature } from '@hatch/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CommandDeps } from './command-deps.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

const jsonError = (message: string, code: string) => Object.assign(new Error(message), { statusCode: 400, code });

export function installWebhookSignatureCheck(app: FastifyInstance, deps: Pick<CommandDeps, 'config' | 'clock'>) {
  const { webhookSecret, webhookToleranceSeconds } = deps.config;
  // Keep the exact bytes: the signature covers them, not a re-serialisation.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    const bytes = raw as Buffer;
    request.rawBody = bytes;
    if (bytes.length === 0) return done(jsonError('Body cannot be empty', 'FST_ERR_CTP_EMPTY_JSON_BODY'), undefined);
    try {
      done(null, JSON.parse(bytes.toString('utf8')));
    } catch {
      done(jsonError('Body is not valid JSON', 'FST_ERR_CTP_INVALID_JSON_BODY'), undefined);
    }
  });

  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!webhookSecret) return;
    const check = verifyWebhookSignature({
      // `new,old` while rotating: both verify until the old one is dropped.
      secret: webhookSecret
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
      rawBody: request.rawBody ?? Buffer.alloc(0),
      timestamp: request.headers['x-hatch-timestamp'] as string | undefined,
      signature: request.headers['x-hatch-signature'] as string | undefined,
      toleranceSeconds: webhookToleranceSeconds,
      nowMs: deps.clock.now().getTime(),
    });
    if (!check.ok) {
      request.log.warn({ reason: check.reason, route: request.routeOptions.url }, 'webhook signature rejected');
      throw new Problem(401, 'invalid-signature', 'Invalid webhook signature', {
        detail: `signature ${check.reason}: sign HMAC-SHA256 over "<X-Hatch-Timestamp>.<raw body>"`,
      });
    }
  });
}
