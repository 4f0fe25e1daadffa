import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { maskAddress, maskPii } from './masking.ts';

describe('masking', () => {
  it('masks phone numbers and email addresses', () => {
    expect(maskAddress('+12016661234')).toBe('+1201***34');
    expect(maskAddress('jane.doe@gmail.com')).toBe('j***@gmail.com');
    expect(maskPii('from +12016661234 to jane.doe@gmail.com')).toBe('from +1201***34 to j***@gmail.com');
  });

  it('never lets a full address, a body or a secret reach the log output', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('test', { destination });
    log.info(
      {
        to: '+18045551234',
        email: 'contact@gmail.com',
        body: 'secret text',
        req: { headers: { authorization: 'Bearer sk_live_123' } },
      },
      'sent to +18045551234',
    );
    const out = lines.join('');
    expect(out).not.toContain('+18045551234');
    expect(out).not.toContain('contact@gmail.com');
    expect(out).not.toContain('secret text');
    expect(out).not.toContain('sk_live_123');
    expect(out).toContain('+1804***34');
  });
});
