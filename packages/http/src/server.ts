// One way to build an HTTP server: fastify + zod type provider (the route schema is the validation,
// the types and the OpenAPI document), request ids carried from `X-Request-Id`, problem+json errors.
import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import { type Logger, nameServerSpan } from '@hatch/platform';
import Fastify, { type FastifyBaseLogger, type FastifyError, LogController } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Problem, problemContentType, problemType, sendProblem } from './problem.ts';

export interface HttpServerOptions {
  logger: Logger;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /**
   * Longest a client may take to send a whole request (default 30 s), its headers (default 10 s), and an
   * idle socket may stay open (default 120 s): slow or stalled clients cannot pin sockets. Only the
   * receiving side is timed (Node clears these once the request is read), so a long response (an SSE
   * stream, which also clears its socket's idle timeout) is never cut.
   */
  timeouts?: { requestMs?: number; headersMs?: number; idleSocketMs?: number };
  /** `webhooks`: the OpenAPI 3.1 webhooks section (what the service posts to its customers). */
  openApi?: { title: string; version: string; description?: string; webhooks?: Record<string, unknown> };
  /** fastify `trustProxy`: whose X-Forwarded-For gives `request.ip` (default: none, the peer address). */
  trustProxy?: boolean | number | string;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createHttpServer(options: HttpServerOptions) {
  const requestTimeout = options.timeouts?.requestMs ?? 30_000;
  const headersTimeout = Math.min(options.timeouts?.headersMs ?? 10_000, requestTimeout);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    requestTimeout,
    // Node checks both timeouts on this interval (its default, 30 s, would let a 1 s timeout last 30 s).
    http: { headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // A bare union would steer fastify's overloads to the HTTP/2 server type.
    trustProxy: (options.trustProxy ?? false) as true,
    connectionTimeout: options.timeouts?.idleSocketMs ?? 120_000,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // Our own one line per request (onResponse below) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Errors the router raises before any route runs (bad URL encoding, over-long path parameters): the
    // same problem+json as everything else.
    frameworkErrors: (error, _request, reply) =>
      sendProblem(reply, {
        type: problemType(error.statusCode === 414 ? 'uri-too-long' : 'bad-request'),
        title: error.statusCode === 414 ? 'URI Too Long' : 'Bad Request',
        status: error.statusCode ?? 400,
        detail: error.message,
      }),
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  // A JSON API: other media types get 415 instead of reaching the schema as a string.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    nameServerSpan(request.method, request.routeOptions.url);
  });
  // PostgreSQL refuses U+0000 in text: a NUL in any query parameter is the client's mistake (400 naming
  // it), never a database error (bin/fuzz found GET /api/conversations?participant=%00 answering 500).
  app.addHook('preValidation', async (request) => {
    const query = request.query;
    if (typeof query !== 'object' || query === null) return;
    const errors = Object.entries(query as Record<string, unknown>)
      .filter(([, value]) => [value].flat().some((v) => typeof v === 'string' && v.includes('\u0000')))
      .map(([name]) => ({ field: `querystring.${name}`, message: 'must not contain U+0000' }));
    if (errors.length > 0)
      throw new Problem(400, 'validation', 'Invalid request', {
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        errors,
      });
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: problemType('not-found'),
      title: 'Not Found',
      status: 404,
      detail: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );

  app.setErrorHandler((error: FastifyError | Problem, request, reply) => {
    if (error instanceof Problem) return sendProblem(reply, error.details, error.headers);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((v) => {
        const path = (v.instancePath || '').replace(/^\//, '').replaceAll('/', '.');
        const missing = (v.params as { issue?: { path?: unknown[] } } | undefined)?.issue?.path;
        const field = [error.validationContext, path || (Array.isArray(missing) ? missing.join('.') : '')]
          .filter(Boolean)
          .join('.');
        return { field: field || String(error.validationContext ?? 'request'), message: v.message ?? 'invalid' };
      });
      return sendProblem(reply, {
        type: problemType('validation'),
        title: 'Invalid request',
        status: 400,
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        errors,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, {
        type: problemType('internal'),
        title: 'Internal Server Error',
        status: 500,
        detail: 'the request could not be completed; it is safe to retry',
      });
    }
    // fastify's own 4xx (malformed JSON, wrong content type, body too large, …)
    const slug =
      status === 415
        ? 'unsupported-media-type'
        : status === 413
          ? 'payload-too-large'
          : error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'malformed-json'
            : 'bad-request';
    return sendProblem(reply, {
      type: problemType(slug),
      title: error.name || 'Bad Request',
      status,
      detail: error.message,
    });
  });

  if (options.openApi) {
    await app.register(fastifySwagger, {
      openapi: {
        // `webhooks` exist from OpenAPI 3.1 on.
        openapi: options.openApi.webhooks ? '3.1.0' : '3.0.3',
        info: {
          title: options.openApi.title,
          version: options.openApi.version,
          description: options.openApi.description,
        },
        ...(options.openApi.webhooks ? { webhooks: options.openApi.webhooks } : {}),
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        },
      },
      transform: jsonSchemaTransform,
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  }
  return app;
}

export { problemContentType };

/** The app every service builds on (zod type provider). */
export type HttpApp = Awaited<ReturnType<typeof createHttpServer>>;
