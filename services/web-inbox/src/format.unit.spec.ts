import { describe, expect, it } from 'vitest';
import { displayStatus, Problem } from './api.ts';
import { clockTime, fieldErrors, htmlToText, parseAttachmentUrls, relativeTime, statusLine } from './format.ts';

describe('statusLine', () => {
  const outbound = { direction: 'outbound' as const, statusReason: null, nextAttemptAt: null };
  it('names each stage of an outbound message', () => {
    expect(statusLine({ ...outbound, status: 'queued' })).toBe('Queued');
    expect(statusLine({ ...outbound, status: 'sent' })).toBe('Sent');
    expect(statusLine({ ...outbound, status: 'delivered' })).toBe('Delivered');
  });
  it('shows a scheduled send with its due time, and a cancelled one', () => {
    const due = '2026-11-25T15:30:00Z';
    expect(statusLine({ ...outbound, status: 'scheduled', sendAt: due })).toBe(`Scheduled for ${clockTime(due)}`);
    expect(statusLine({ ...outbound, status: 'cancelled' })).toBe('Cancelled');
    expect(displayStatus('outbound', 'scheduled', null)).toBe('scheduled');
    expect(displayStatus('outbound', 'cancelled', null)).toBe('cancelled');
  });
  it('gives the reason of a failure and of an undelivered message', () => {
    expect(statusLine({ ...outbound, status: 'failed', statusReason: 'provider rejected: invalid number' })).toBe(
      'Failed: provider rejected: invalid number',
    );
    expect(statusLine({ ...outbound, status: 'undelivered', statusReason: '30006' })).toBe('Not delivered: 30006');
  });
  it('says when a retry is due', () => {
    const line = statusLine({
      ...outbound,
      status: 'retrying',
      nextAttemptAt: '2026-11-25T14:03:05Z',
      statusReason: 'HTTP 503',
    });
    expect(line).toMatch(/^Retrying at .+ \(HTTP 503\)$/);
  });
  it('shows inbound messages as received whatever their status', () => {
    expect(statusLine({ ...outbound, direction: 'inbound', status: 'received' })).toBe('Received');
  });
});

describe('relativeTime', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  it('rounds to human units', () => {
    expect(relativeTime('2026-11-25T11:59:40Z', now)).toBe('just now');
    expect(relativeTime('2026-11-25T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-11-25T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('not a date', now)).toBe('not a date');
  });
});

describe('fieldErrors', () => {
  const fields = ['type', 'from', 'to', 'subject', 'body', 'attachments'];
  it('maps problem+json fields to the form inputs and keeps the rest for the form', () => {
    const problem = new Problem(400, 'Invalid request', 'x', [
      { field: 'body.to', message: 'is not a valid phone number' },
      { field: 'body.attachments.0', message: 'must be an http(s) URL' },
      { field: 'body.body', message: 'must not be empty' },
      { field: 'body.cc', message: 'unknown field' },
    ]);
    expect(Object.fromEntries(fieldErrors(problem, fields))).toEqual({
      to: ['is not a valid phone number'],
      attachments: ['must be an http(s) URL'],
      body: ['must not be empty'],
      '': ['body.cc: unknown field'],
    });
  });
  it('falls back to the detail when the problem names no field', () => {
    const problem = new Problem(429, 'Too Many Requests', 'slow down', []);
    expect(Object.fromEntries(fieldErrors(problem, fields))).toEqual({ '': ['slow down'] });
  });
});

describe('parseAttachmentUrls', () => {
  it('splits on lines, commas and spaces', () => {
    expect(parseAttachmentUrls(' https://a.test/1.jpg\nhttps://a.test/2.jpg, https://a.test/3.jpg \n')).toEqual([
      'https://a.test/1.jpg',
      'https://a.test/2.jpg',
      'https://a.test/3.jpg',
    ]);
  });
});

describe('htmlToText', () => {
  it('drops tags, scripts and styles and decodes entities', () => {
    expect(
      htmlToText('<html><style>p{}</style><p>Hi &amp; welcome</p><script>alert(1)</script><p>Bye</p></html>'),
    ).toBe('Hi & welcome\nBye');
  });
  it('copes with a preview cut inside a tag and keeps a lone "<"', () => {
    expect(htmlToText('<html><body><p>Hello <b')).toBe('Hello');
    expect(htmlToText('1 < 2')).toBe('1 < 2');
  });
});
