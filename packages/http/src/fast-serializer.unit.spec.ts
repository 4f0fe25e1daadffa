import { serializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fastSerializerCompiler } from './fast-serializer.ts';

const page = z.object({
  items: z.array(
    z.object({
      id: z.uuid(),
      count: z.number().int(),
      channel: z.enum(['sms', 'email']),
      name: z.string().nullable(),
      tags: z.array(z.string()),
      contacts: z.optional(z.array(z.object({ address: z.string(), displayName: z.nullable(z.string()) }))),
    }),
  ),
  nextCursor: z.string().nullable(),
});
const route = { schema: page, method: 'GET', url: '/page', httpStatus: '200' };
const fast = fastSerializerCompiler(route);
const zod = serializerCompiler(route);

const item = {
  id: '0b8f1c9e-2d4a-4f6b-9c3e-5a7d8e9f0a1b',
  count: 3,
  channel: 'sms' as const,
  name: 'Ana "quoted" \u2028 🙂',
  tags: ['a', 'b'],
};

describe('fastSerializerCompiler', () => {
  it('writes what the zod serializer writes, nulls and optional fields included', () => {
    for (const answer of [
      { items: [item, { ...item, name: null, contacts: [{ address: 'x@y.z', displayName: null }] }], nextCursor: 'c' },
      { items: [], nextCursor: null },
    ])
      expect(JSON.parse(fast(answer))).toEqual(JSON.parse(zod(answer)));
  });

  it('writes only the schema’s fields', () => {
    const written = JSON.parse(fast({ items: [{ ...item, secret: 'x' }], nextCursor: null, internal: 1 }));
    expect(written).toEqual({ items: [item], nextCursor: null });
  });

  it('refuses an answer missing a required field', () => {
    const { count: _, ...missing } = item;
    expect(() => fast({ items: [missing], nextCursor: null })).toThrow(/count/);
  });

  it('leaves non-object answers to the zod serializer', () => {
    const text = fastSerializerCompiler({ ...route, schema: z.string() });
    expect(text('data: 1')).toBe('"data: 1"');
    expect(() => text(5)).toThrow();
  });
});
