import { describe, expect, it } from 'vitest';
import { countSmsSegments, smsEncoding } from './sms-segments.ts';

describe('SMS segments', () => {
  it('uses GSM-7 for the default alphabet and UCS-2 otherwise', () => {
    expect(smsEncoding('Hello @ £5 é')).toBe('GSM-7');
    expect(smsEncoding('price in € [ok]')).toBe('GSM-7');
    expect(smsEncoding('hi 👋')).toBe('UCS-2');
    expect(smsEncoding('Привет')).toBe('UCS-2');
  });

  it('fits 160 GSM-7 septets in one segment, then 153 per segment', () => {
    expect(countSmsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(countSmsSegments('a'.repeat(161)).segments).toBe(2);
    expect(countSmsSegments('a'.repeat(306)).segments).toBe(2);
    expect(countSmsSegments('a'.repeat(307)).segments).toBe(3);
    expect(countSmsSegments('').segments).toBe(0);
  });

  it('counts extension characters as two septets and never splits them', () => {
    expect(countSmsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(countSmsSegments(`${'€'.repeat(80)}a`).segments).toBe(2);
    // 152 septets then an escape pair: 154 would cross the 153 boundary, so it moves to segment 2.
    expect(countSmsSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`).segments).toBe(3);
  });

  it('fits 70 UCS-2 units in one segment, then 67, and never splits a surrogate pair', () => {
    expect(countSmsSegments('ж'.repeat(70))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(countSmsSegments('ж'.repeat(71)).segments).toBe(2);
    expect(countSmsSegments('ж'.repeat(134)).segments).toBe(2);
    expect(countSmsSegments('ж'.repeat(135)).segments).toBe(3);
    expect(countSmsSegments('👋'.repeat(35))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    // 66 units + a pair would be 68 > 67: the emoji opens segment 2.
    expect(countSmsSegments(`${'ж'.repeat(66)}👋${'ж'.repeat(65)}`).segments).toBe(2);
    expect(countSmsSegments(`${'ж'.repeat(66)}👋${'ж'.repeat(66)}`).segments).toBe(3);
  });
});
