// Reading one Inbound Parse post (multipart/form-data): the text fields SendGrid documents (`from`, `to`,
// `subject`, `text`, `html`, `headers`, `envelope` as JSON, …) and the attachment parts, of which only
// the name, type and size are kept (the bytes are read and dropped). Over the size limit: 413.
import { Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { invalidPayload } from './payloads.ts';

const envelopeSchema = z.object({ to: z.array(z.string().min(3).max(320)).min(1), from: z.string().min(3).max(320) });

export interface ParsedEmail {
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  html?: string;
  headers?: string;
  envelope?: z.infer<typeof envelopeSchema>;
  files: Array<{ filename: string; contentType: string; size: number }>;
}

const tooLarge = (maxBytes: number) =>
  new Problem(413, 'payload-too-large', 'Payload Too Large', {
    detail: `the Inbound Parse post is over ${maxBytes} bytes (SENDGRID_INBOUND_MAX_BYTES)`,
  });

export async function readInboundParse(request: FastifyRequest, maxBytes: number): Promise<ParsedEmail> {
  if (!request.isMultipart())
    throw new Problem(415, 'unsupported-media-type', 'Unsupported Media Type', {
      detail: 'Inbound Parse posts multipart/form-data',
    });
  const fields = new Map<string, string>();
  const files: ParsedEmail['files'] = [];
  let total = 0;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        let size = 0;
        for await (const chunk of part.file) {
          size += (chunk as Buffer).length;
          if (total + size > maxBytes) throw tooLarge(maxBytes);
        }
        if (part.file.truncated) throw tooLarge(maxBytes);
        total += size;
        files.push({ filename: part.filename || 'Untitled', contentType: part.mimetype, size });
      } else {
        const value = typeof part.value === 'string' ? part.value : String(part.value);
        total += Buffer.byteLength(value);
        if (total > maxBytes || part.valueTruncated) throw tooLarge(maxBytes);
        fields.set(part.fieldname, value);
      }
    }
  } catch (error) {
    if (error instanceof Problem) throw error;
    // @fastify/multipart's own limits (file size, part counts) and malformed bodies.
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) throw tooLarge(maxBytes);
    throw invalidPayload([{ field: 'body', message: `is not valid multipart/form-data: ${(error as Error).message}` }]);
  }
  let envelope: ParsedEmail['envelope'];
  const rawEnvelope = fields.get('envelope');
  if (rawEnvelope) {
    let json: unknown;
    try {
      json = JSON.parse(rawEnvelope);
    } catch {
      throw invalidPayload([{ field: 'body.envelope', message: 'is not JSON' }]);
    }
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success)
      throw invalidPayload(
        parsed.error.issues.map((i) => ({ field: `body.envelope.${i.path.join('.')}`, message: i.message })),
      );
    envelope = parsed.data;
  }
  const field = (name: string) => fields.get(name);
  return {
    from: field('from'),
    to: field('to'),
    subject: field('subject'),
    text: field('text'),
    html: field('html'),
    headers: field('headers'),
    envelope,
    files,
  };
}
