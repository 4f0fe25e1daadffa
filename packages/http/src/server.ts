// One way to build an HTTP server: fastify + zod type provider (the route schema is the validation,
// the types and the OpenAPI document), request ids carried from `X-Request-Id`, problem+json errors.
import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import type { Logger } from '@hatch/platform';
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
  /** `webhooks`: the OpenAPI 3.1 webhooks section (what the service posts to its customers). */
  openApi?: { title: string; version: string; description?: string; webhooks?: Record<string, unknown> };
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createHttpServer(options: HttpServerOptions) {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
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
