// The palette in styles.css meets WCAG AA (4.5:1 for normal text) wherever the inbox puts text.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');

function palette(block: string): Record<string, string> {
  return Object.fromEntries([...block.matchAll(/--([a-z-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1]!, m[2]!]));
}
const light = palette(css.slice(css.indexOf(':root'), css.indexOf('@media (prefers-color-scheme: dark)')));
const dark = palette(css.slice(css.indexOf('@media (prefers-color-scheme: dark)')));

const luminance = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};

// Foreground → the backgrounds it is drawn on.
const pairs: [string, string[]][] = [
  ['text', ['bg', 'panel', 'out', 'in']],
  ['muted', ['bg', 'panel', 'out', 'in']],
  ['accent', ['bg', 'panel', 'out', 'in']],
  ['accent-text', ['accent']],
  ['ok', ['bg', 'out', 'in']],
  ['warn', ['bg', 'panel', 'out', 'in']],
  ['bad', ['bg', 'out', 'in']],
];

describe.each([
  ['light', light],
  ['dark', dark],
])('%s colour scheme', (_name, colours) => {
  it.each(pairs)('%s on its backgrounds is at least 4.5:1', (fg, backgrounds) => {
    for (const bg of backgrounds) {
      expect(colours[fg], fg).toBeDefined();
      expect(colours[bg], bg).toBeDefined();
      expect(contrast(colours[fg]!, colours[bg]!), `${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });
});
