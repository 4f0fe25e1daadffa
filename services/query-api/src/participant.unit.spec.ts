import { describe, expect, it } from 'vitest';
import { normaliseParticipant } from './participant.ts';

describe('normaliseParticipant', () => {
  it('normalises phones to E.164 and emails to lower case', () => {
    expect(normaliseParticipant('(555) 100-0003')).toBe('+15551000003');
    expect(normaliseParticipant('+44 20 7946 0958')).toBe('+442079460958');
    expect(normaliseParticipant('0044 20 7946 0958')).toBe('+442079460958');
    expect(normaliseParticipant('Bob@Example.COM')).toBe('bob@example.com');
    expect(normaliseParticipant('[Bob@Example.com](mailto:Bob@Example.com)')).toBe('bob@example.com');
  });
});
