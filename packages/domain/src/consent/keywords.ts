// Carrier opt-out keywords (what Twilio's Advanced Opt-Out recognises): a message whose WHOLE body is
// one of them, ignoring case, surrounding spaces and punctuation. "Stop calling me" is not an opt-out.
export type ConsentKeywordKind = 'opt_out' | 'opt_in' | 'help';

const keywords: Record<string, ConsentKeywordKind> = {
  STOP: 'opt_out',
  STOPALL: 'opt_out',
  UNSUBSCRIBE: 'opt_out',
  CANCEL: 'opt_out',
  END: 'opt_out',
  QUIT: 'opt_out',
  REVOKE: 'opt_out',
  OPTOUT: 'opt_out',
  START: 'opt_in',
  UNSTOP: 'opt_in',
  YES: 'opt_in',
  HELP: 'help',
  INFO: 'help',
};

export interface ConsentKeyword {
  kind: ConsentKeywordKind;
  keyword: string;
}

export function consentKeyword(body: string): ConsentKeyword | null {
  const word = body
    .normalize('NFKC')
    .replace(/[\s\p{P}\p{S}]+/gu, '')
    .toUpperCase();
  const kind = keywords[word];
  return kind ? { kind, keyword: word } : null;
}

/** The automatic answers, sent through the normal outbound path. */
export const consentReplies: Record<ConsentKeywordKind, string> = {
  opt_out:
    'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.',
  opt_in:
    'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe.',
  help: 'Hatch messaging: reply STOP to unsubscribe or START to resubscribe. Msg & data rates may apply.',
};
