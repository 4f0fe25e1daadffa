import { describe, expect, it } from 'vitest';
import { queryApiConfigSchema } from './config.ts';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/hatch' };

describe('query API configuration', () => {
  it('refuses production mode without an operator token, naming it', () => {
    const parsed = queryApiConfigSchema.safeParse({ ...base, NODE_ENV: 'production' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain('OPERATOR_TOKEN');
  });

  it('takes production mode with a token, and local mode without one, on loopback by default', () => {
    const production = queryApiConfigSchema.parse({ ...base, NODE_ENV: 'production', OPERATOR_TOKEN: 'x'.repeat(16) });
    expect(production.OPERATOR_TOKEN).toBe('x'.repeat(16));
    const local = queryApiConfigSchema.parse(base);
    expect(local.OPERATOR_TOKEN).toBeUndefined();
    expect(local.QUERY_API_HOST).toBe('127.0.0.1');
  });
});
