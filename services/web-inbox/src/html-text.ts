// Plain text of an HTML email body for previews (the inbox never injects message HTML). One forward scan
// with indexOf: the body is untrusted, and the regex it replaces (`<style>[\s\S]*?</style>` with a
// backreference) rescanned the rest of the text from every unclosed `<style>` (252 KB took 6.9 s).

/** Tags that end a line; every other tag reads as a space. */
const lineBreaking = new Set(['br', '/p', '/div', '/li']);
/** Elements whose content is not text. */
const hidden = new Set(['script', 'style']);
const entities: Record<string, string> = { nbsp: ' ', lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' };
const entity = /&(nbsp|lt|gt|quot|#39|amp);/g;

const isTagStart = (code: number) =>
  (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 47 /* / */ || code === 33; /* ! */
const isNameChar = (code: number) =>
  (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57);

/** Where `</name` next starts at or after `from` (any case), or -1. */
function closingTag(html: string, name: string, from: number): number {
  for (let at = html.indexOf('</', from); at >= 0; at = html.indexOf('</', at + 2)) {
    if (html.slice(at + 2, at + 2 + name.length).toLowerCase() === name) return at;
  }
  return -1;
}

const utf16 = new TextDecoder('utf-16le');

/**
 * Spaces and tabs collapse to one space, spaces around line breaks go, both ends are trimmed. One pass
 * into a buffer: a regex replace with hundreds of thousands of matches costs more than 100 ms per MB.
 */
function tidyWhitespace(text: string): string {
  const out = new Uint16Array(text.length);
  let length = 0;
  let space = false;
  let newlines = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 32 || code === 9) space = true;
    else if (code === 10) newlines++;
    else {
      if (length > 0 && newlines > 0) for (let k = 0; k < newlines; k++) out[length++] = 10;
      else if (length > 0 && space) out[length++] = 32;
      space = false;
      newlines = 0;
      out[length++] = code;
    }
  }
  return utf16.decode(out.subarray(0, length));
}

export function htmlToText(html: string): string {
  const parts: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? html.length : lt;
    if (textEnd > i) parts.push(html.slice(i, textEnd).replace(entity, (_, name: string) => entities[name] ?? ''));
    if (lt < 0) break;
    if (!isTagStart(html.charCodeAt(lt + 1))) {
      parts.push('<');
      i = lt + 1;
      continue;
    }
    const gt = html.indexOf('>', lt);
    // An unfinished tag runs to the end: nothing after it is text.
    if (gt < 0) {
      parts.push(' ');
      break;
    }
    // `</p` keeps its slash: the name is what decides a line break (`/p`) or hidden content (`style`).
    let nameEnd = html[lt + 1] === '/' ? lt + 2 : lt + 1;
    while (nameEnd < gt && isNameChar(html.charCodeAt(nameEnd))) nameEnd++;
    const name = html.slice(lt + 1, nameEnd).toLowerCase();
    if (hidden.has(name)) {
      const close = closingTag(html, name, gt + 1);
      const closeEnd = close < 0 ? -1 : html.indexOf('>', close);
      parts.push(' ');
      if (closeEnd < 0) break;
      i = closeEnd + 1;
      continue;
    }
    parts.push(lineBreaking.has(name) ? '\n' : ' ');
    i = gt + 1;
  }
  return tidyWhitespace(parts.join(''));
}
