// 1 MB inputs built to make a backtracking regular expression go quadratic (unclosed constructs, long
// runs of almost-matching tokens), and a timer that takes the best of a few runs so a busy machine does not
// decide the verdict. For the "no super-linear parsing on untrusted text" specs.
const megabyte = 1_000_000;

const repeat = (unit: string) => unit.repeat(Math.ceil(megabyte / unit.length)).slice(0, megabyte);

export const adversarialInputs: Record<string, string> = {
  'unclosed <style>': repeat('<style>'),
  'unclosed <script': repeat('<script '),
  'unclosed tags': repeat('<a'),
  'almost line breaks': repeat('<br '),
  'closing tags': repeat('</'),
  ampersands: repeat('&'),
  'spaces and newlines': repeat(' \n\t'),
  letters: repeat('a'),
  'dotted labels': repeat('a.'),
  'at signs': repeat('a@'),
  'encoded at signs': repeat('a%40'),
  digits: repeat('1'),
  'spaced digits': repeat('1 '),
  'parenthesised digits': repeat('(1)'),
  'plus signs': repeat('+1'),
  'quotes and escapes': repeat('"\\'),
  'address-like soup': repeat('a-1.b_2@'),
  dashes: repeat('1-'),
  'mailto brackets': repeat('[a](mailto:'),
  'angle brackets': repeat('<a@b'),
};

/** Best of `runs` timings of `work` in milliseconds. */
export function bestTimeMs(work: () => unknown, runs = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    work();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}
