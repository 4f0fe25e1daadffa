// RFC 9457 problem details: every error answer is `application/problem+json`.
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

export const problemContentType = 'application/problem+json';

export interface ProblemDetails {
  /** A stable URI-like identifier clients can switch on, e.g. `https://hatch.dev/problems/validation`. */
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** Invalid fields, for validation problems. */
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

export const problemType = (slug: string) => `https://hatch.dev/problems/${slug}`;

/** Throw from a handler; the error handler turns it into problem+json. */
export class Problem extends Error {
  readonly details: ProblemDetails;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    slug: string,
    title: string,
    extra: Omit<Partial<ProblemDetails>, 'status' | 'type' | 'title'> = {},
    headers: Record<string, string> = {},
  ) {
    super(typeof extra.detail === 'string' ? extra.detail : title);
    // `detail` always says something: clients and logs should not have to guess from the title alone.
    this.details = {
      type: problemType(slug),
      title,
      status,
      ...extra,
      detail: typeof extra.detail === 'string' ? extra.detail : title,
    };
    this.headers = headers;
  }
}

export function sendProblem(reply: FastifyReply, details: ProblemDetails, headers: Record<string, string> = {}) {
  const instance = reply.request?.url;
  return reply
    .code(details.status)
    .headers(headers)
    .type(problemContentType)
    .send({ ...details, ...(instance ? { instance } : {}) });
}

/** The body of every error answer, as published in the OpenAPI document. */
export const problemBody = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

const problemMeaning: Record<number, string> = {
  400: 'Invalid request: `errors` names each invalid field',
  401: 'Missing or invalid credentials (API key or webhook signature)',
  403: 'Not allowed: a sender the account does not own, or a cookie-authenticated write without X-Hatch-CSRF',
  404: 'Not found',
  409: 'Conflict: the same Idempotency-Key is still being written; retry after Retry-After',
  413: 'Body larger than the limit',
  415: 'Unsupported media type (send application/json)',
  422: 'Idempotency-Key reused with a different request',
  429: 'Rate limited; retry after Retry-After',
  503: 'The event log is unavailable and nothing was accepted; retry after Retry-After',
  504: 'The outcome is unknown (the log lost the connection mid-write): retry with the same Idempotency-Key',
};

/** Route response entries for error answers: `application/problem+json` with `problemBody`. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: problemMeaning[status] ?? 'Error',
        content: { [problemContentType]: { schema: problemBody } },
      },
    ]),
  );

/**
 * 400 naming each invalid field as the client sent it: `body.<field>`, with the decision's field names
 * renamed to the payload's (`wireNames`, e.g. `replyTo` → `reply_to`).
 */
export function invalidRequest(
  errors: readonly { field: string; message: string }[],
  wireNames: Record<string, string> = {},
): Problem {
  const named = errors.map((e) => {
    const [head, ...rest] = e.field.split('.');
    return { field: ['body', wireNames[head as string] ?? head, ...rest].join('.'), message: e.message };
  });
  return new Problem(400, 'validation', 'Invalid request', {
    detail: named.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors: named,
  });
}
