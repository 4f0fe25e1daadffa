import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rowMatches } from './row-checks.ts';

// Every kind the compiler handles, and some it leaves to zod.
const schemas = {
  compiled: z.object({
    text: z.string(),
    count: z.number().int(),
    ratio: z.number(),
    flag: z.boolean(),
    at: z.date(),
    maybeAt: z.date().nullable(),
    kind: z.enum(['sms', 'email']),
    one: z.literal(1),
    tags: z.array(z.string()),
    maybeTags: z.array(z.enum(['a', 'b'])).nullable(),
  }),
  refined: z.object({ text: z.string().min(2), count: z.number().int() }),
  strict: z.strictObject({ text: z.string() }),
};

const valid = {
  text: 'hello',
  count: 3,
  ratio: 0.5,
  flag: false,
  at: new Date('2026-01-01T00:00:00Z'),
  maybeAt: null,
  kind: 'sms',
  one: 1,
  tags: ['x'],
  maybeTags: ['a'],
};
const columnValues = [
  'x',
  '',
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  null,
  undefined,
  new Date('2026-01-01T00:00:00Z'),
  new Date(Number.NaN),
  'sms',
  'fax',
  1,
  '1',
  [],
  ['x'],
  ['a', 'c'],
  [1],
  {},
];

describe('rowMatches', () => {
  it('agrees with zod safeParse on every column value, for compiled and zod-judged schemas alike', () => {
    let compared = 0;
    for (const schema of Object.values(schemas))
      for (const column of Object.keys(schema.shape))
        for (const value of columnValues) {
          const base = schema === schemas.compiled ? valid : { text: 'hello', count: 3 };
          const row = { ...base, [column]: value };
          expect([column, value, rowMatches(schema, row)]).toEqual([column, value, schema.safeParse(row).success]);
          compared++;
        }
    expect(compared).toBe(columnValues.length * 13);
  });

  it('ignores extra columns like zod does, except for a strict schema', () => {
    expect(rowMatches(schemas.compiled, { ...valid, extra: 'column' })).toBe(true);
    expect(rowMatches(schemas.strict, { text: 'x', extra: 'column' })).toBe(false);
    expect(rowMatches(schemas.compiled, { ...valid, text: undefined })).toBe(false);
  });
});
