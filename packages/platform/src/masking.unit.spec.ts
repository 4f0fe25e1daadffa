import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { maskAddress, maskJsonLine, maskKnownFields, maskPii } from './masking.ts';

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger('test', { destination, level: 'debug' }) };
}

describe('maskPii: phone numbers and emails inside text', () => {
  it.each([
    // E.164 and international spellings
    ['from +12016661234 to jane.doe@gmail.com', 'from +1201***34 to j***@gmail.com'],
    ['+447911123456', '+4479***56'],
    ['+1 (201) 555-1234', '+1201***34'],
    ['+1 201-555-1234', '+1201***34'],
    ['+33 6 12 34 56 78', '+3361***78'],
    ['+1(201)555-1234', '+1201***34'],
    ['fictional +15555550100 too', 'fictional +1555***00 too'],
    ['stream sender-+12016661234', 'stream sender-+1201***34'],
    ['+12016661234,+18045551234', '+1201***34,+1804***34'],
    ['+12016661234 +18045551234', '+1201***34 +1804***34'],
    ['/api/conversations?participant=%2B12016661234&limit=5', '/api/conversations?participant=%2B1201***34&limit=5'],
    // national formats
    ['call (201) 555-1234 now', 'call 201***34 now'],
    ['201-555-1234', '201***34'],
    ['201.555.1234', '201***34'],
    ['201 555 1234', '201***34'],
    ['1-800-555-1234', '180***34'],
    ['2015551234', '201***34'],
    ['12015551234', '120***34'],
    ['UK 020 7946 0958', 'UK 020***58'],
    ['FR 06 12 34 56 78', 'FR 061***78'],
    ['3 calls to 201-555-1234', '3 calls to 201***34'],
    ['sent 2 201-555-1234', 'sent 2 201***34'],
    ['tel=2015551234', 'tel=201***34'],
    // emails
    ['Jane Doe <jane@x.com>', 'Jane Doe <j***@x.com>'],
    ['[a@b.com](mailto:a@b.com)', '[a***@b.com](mailto:a***@b.com)'],
    ['to=jane.doe%40gmail.com', 'to=j***%40gmail.com'],
    ['jane+tag@sub.example.co.uk', 'j***@sub.example.co.uk'],
    ['x@gmail.com.5', 'x***@gmail.com.5'],
    ['Error: duplicate key (to)=(jane@x.com)', 'Error: duplicate key (to)=(j***@x.com)'],
  ])('%s → %s', (input, expected) => {
    expect(maskPii(input)).toBe(expected);
  });

  it.each([
    // what operators need stays readable
    'message 5a716440-0000-4000-8000-000000000000 appended',
    '12345678-1234-4234-8234-123456789012',
    'e1b2c3d4-1234-5678-9012-a1b2c3d4e5f6',
    'position 00000000000000000786-00000000000000000012',
    'connect ECONNREFUSED 127.0.0.1:8001',
    'listening on http://127.0.0.1:8001/api/health',
    '192.168.100.200:5432',
    '10.0.0.12',
    'host ip-172-31-45-123.ec2.internal',
    'port 8001',
    'https://example.com/api/conversations/0195f1f2-7c3a-7d40-9e2a-4c1d3a716440?limit=50',
    'at file:///work/node_modules/.pnpm/pino@10.4.0/node_modules/pino/lib/proto.js:233:12',
    '@hatch/platform and sender @usehatchapp.com',
    'due 2026-12-01 10:00:00 (2026-12-01T10:00:00.000Z), 01.12.2026',
    'epoch 1732550400 ms 1732550400123',
    'processed 100 200 300 400 events in 1234567 ms',
    'xid 4294967296 position 786',
    'signature v1,K5oZfzN95Z9UVu+1234567QmfVNQhnkZ2pj9o9NDN/H/pI4=',
    'retry 3 of 5 after 2000 ms, status 503',
    'version 1.13.16, node v20.19.0',
    'account 0000000786 and 0000000001',
    'user@localhost, pino@10.4.0',
  ])('keeps %s', (input) => {
    expect(maskPii(input)).toBe(input);
  });

  it('masks the same numbers inside a serialised line, never its numbers or keys', () => {
    const line = JSON.stringify({
      level: 30,
      bytes: 2147483648,
      msg: 'failed for +12016661234\nthen 201-555-1234',
      position: '00000000000000000786-00000000000000000012',
    });
    const masked = maskJsonLine(line);
    expect(JSON.parse(masked)).toEqual({
      level: 30,
      bytes: 2147483648,
      msg: 'failed for +1201***34\nthen 201***34',
      position: '00000000000000000786-00000000000000000012',
    });
  });

  // Linear-time patterns: each hostile token masks in one pass. The bound is generous on purpose
  // (a quadratic pattern takes seconds to minutes on these); it asserts completion, not speed.
  it.each([
    ['digits', '1'.repeat(50_000)],
    ['dashed digits', '1-'.repeat(25_000)],
    ['spaced pluses', '+1 '.repeat(16_667)],
    ['parentheses', '(1)'.repeat(16_667)],
    ['letters', 'a'.repeat(50_000)],
    ['local part, no @', 'a.'.repeat(25_000)],
    ['@ chain', 'a@'.repeat(25_000)],
    ['%40 chain', 'a%40'.repeat(12_500)],
    ['domain without TLD', `a@${'b-'.repeat(25_000)}`],
    ['dotted digits', '1.'.repeat(25_000)],
    ['quotes and escapes', `"${'\\"1'.repeat(16_667)}`],
  ])('masks a 50,000-character token (%s) in well under 200 ms', (_name, token) => {
    const started = performance.now();
    maskPii(token);
    maskJsonLine(`{"msg":"${token}"}`);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('maskAddress and known fields', () => {
  it.each([
    ['+12016661234', '+1201***34'],
    ['jane.doe@gmail.com', 'j***@gmail.com'],
    ['jane@localhost', 'j***@localhost'],
    ['+1555', '+***'],
    ['(201) 555-1234', '201***34'],
    ['Jane <jane@x.com>', 'Jane <j***@x.com>'],
    ['@usehatchapp.com', '@usehatchapp.com'],
    ['127.0.0.1', '127.0.0.1'],
  ])('maskAddress(%s) → %s', (input, expected) => {
    expect(maskAddress(input)).toBe(expected);
  });

  it('masks address fields whole, in any spelling, and leaves the rest', () => {
    const request = new URL('http://127.0.0.1:8001/x');
    expect(
      maskKnownFields({
        to: '+1555',
        From: '+12016661234',
        reply_to: 'jane@x.com',
        cc: ['a@b.com', 'c@d.com'],
        phone: 12016661234,
        participants: [{ address: '+18045551234', name: 'Jane' }],
        messageId: '5a716440-0000-4000-8000-000000000000',
        remoteAddress: '127.0.0.1',
        request,
      }),
    ).toEqual({
      to: '+***',
      From: '+1201***34',
      reply_to: 'j***@x.com',
      cc: ['a***@b.com', 'c***@d.com'],
      phone: '120***34',
      participants: [{ address: '+1804***34', name: 'Jane' }],
      messageId: '5a716440-0000-4000-8000-000000000000',
      remoteAddress: '127.0.0.1',
      request,
    });
  });
});

describe('createLogger', () => {
  it('never lets a full address, a body or a secret reach the log output', () => {
    const { lines, log } = capture();
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

  it('keeps ids, positions, IPs and ports readable', () => {
    const { lines, log } = capture();
    const fields = {
      messageId: '5a716440-0000-4000-8000-000000000000',
      position: '00000000000000000786-00000000000000000012',
      url: 'http://127.0.0.1:8001/api/health',
      port: 8001,
    };
    log.info(fields, 'relay at 127.0.0.1:8001 published 00000000000000000786-00000000000000000012');
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({
      ...fields,
      msg: 'relay at 127.0.0.1:8001 published 00000000000000000786-00000000000000000012',
    });
  });

  it('masks error messages and stack traces, however the error is logged', () => {
    const { lines, log } = capture();
    const cause = new Error('provider rejected jane@x.com');
    const error = new Error('send to +12016661234 failed', { cause });
    log.error(error);
    log.error({ err: error }, 'dispatch failed');
    log.warn({ err: error });
    const child = log.child({ to: '+18045551234' });
    child.info('child logger');
    expect(lines).toHaveLength(4);
    const out = lines.join('');
    for (const full of ['+12016661234', 'jane@x.com', '+18045551234']) expect(out).not.toContain(full);
    const first = JSON.parse(lines[0] as string) as { msg: string; err: { stack: string; message: string } };
    expect(first.msg).toBe('send to +1201***34 failed');
    expect(first.err.stack).toContain('send to +1201***34 failed');
    expect(first.err.stack).toContain('caused by: Error: provider rejected j***@x.com');
    expect(first.err.stack).toContain('masking.unit.spec.ts'); // the trace itself stays readable
    expect(JSON.parse(lines[3] as string)).toMatchObject({ to: '+1804***34', msg: 'child logger' });
  });
});
