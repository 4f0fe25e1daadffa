import { describe, expect, it } from 'vitest';
import { consentKeyword } from './keywords.ts';

describe('consent keywords', () => {
  it('recognises every opt-out, opt-in and help keyword, ignoring case, spaces and punctuation', () => {
    for (const word of ['STOP', 'stopall', ' Unsubscribe ', 'CANCEL', 'end.', 'Quit!', 'REVOKE', 'opt-out', 'OPTOUT']) {
      expect(consentKeyword(word)?.kind, word).toBe('opt_out');
    }
    for (const word of ['START', 'unstop', 'Yes!']) expect(consentKeyword(word)?.kind, word).toBe('opt_in');
    for (const word of ['HELP', 'info?']) expect(consentKeyword(word)?.kind, word).toBe('help');
  });

  it('ignores keywords inside longer messages', () => {
    for (const body of ['stop calling me', 'please STOP now', 'yes please', 'STOPPED', '', 'help me out']) {
      expect(consentKeyword(body), body).toBeNull();
    }
  });
});
