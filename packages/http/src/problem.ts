// RFC 9457 problem details: every error answer is `application/problem+json`.
import type { FastifyReply } from 'fastify';

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
    this.details = { type: problemType(slug), title, status, ...extra };
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
