// No super-linear masking: each 1 MB adversarial input is masked in under 100 ms (the email pattern once
// took 7.7 s on a 50,000-character token), and a capped JSON literal stays valid JSON.
import { describe, expect, it } from 'vitest';
import { adversarialInputs, bestTimeMs } from './adversarial.ts';
import { maskAddress, maskJsonLine, maskKnownFields, maskPii, maxMaskedLength } from './masking.ts';

describe('masking on hostile text', () => {
  it.each(Object.entries(adversarialInputs))('masks 1 MB of %s in under 100 ms', (_name, input) => {
    const line = JSON.stringify({ msg: 'request failed', err: input, to: input });
    expect(bestTimeMs(() => maskPii(input))).toBeLessThan(100);
    expect(bestTimeMs(() => maskAddress(input))).toBeLessThan(100);
    expect(bestTimeMs(() => maskJsonLine(line))).toBeLessThan(100);
    expect(bestTimeMs(() => maskKnownFields({ to: input }))).toBeLessThan(100);
  });

  it('cuts an over-long literal without breaking the line or leaking what was cut', () => {
    const address = 'jane.doe@example.com';
    const value = `${'x'.repeat(maxMaskedLength - 3)}\\u00e9 ${address}`;
    const masked = maskJsonLine(JSON.stringify({ err: value, n: 1 }));
    const parsed = JSON.parse(masked) as { err: string; n: number };
    expect(parsed.n).toBe(1);
    expect(parsed.err).toContain('more characters]');
    expect(masked).not.toContain(address);
    expect(maskPii(`${address} ${'y'.repeat(maxMaskedLength)}`)).toMatch(
      /^j\*\*\*@example\.com y+…\[\d+ more characters\]$/,
    );
  });
});
