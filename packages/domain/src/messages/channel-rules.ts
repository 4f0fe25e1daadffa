// What each channel may carry. The HTTP schema checks shapes; these are the messaging rules.
import type { Channel } from './events.ts';

export const channelLimits = {
  /** Longest SMS/MMS body in characters (10 concatenated segments, the carriers' practical cap). */
  smsBodyMaxChars: 1600,
  /** Most media URLs on one MMS. */
  mmsMaxAttachments: 10,
  /** Most attachment URLs on one email. */
  emailMaxAttachments: 25,
  /** Largest email body (HTML allowed) in characters. */
  emailBodyMaxChars: 256 * 1024,
  /** Most cc + bcc recipients of one email. */
  emailMaxCopies: 50,
  subjectMaxChars: 998,
} as const;

export interface FieldError {
  field: string;
  message: string;
}

/** The channel a phone payload asks for: an explicit `type`, else mms when it carries media. */
export const phoneChannel = (type: 'sms' | 'mms' | null | undefined, attachments: readonly string[]): Channel =>
  type ?? (attachments.length > 0 ? 'mms' : 'sms');

export function checkChannelRules(content: {
  channel: Channel;
  body: string;
  attachments: readonly string[];
  cc?: readonly string[];
  bcc?: readonly string[];
  subject?: string | null;
}): FieldError[] {
  const errors: FieldError[] = [];
  const { channel, body, attachments } = content;
  if (channel === 'sms') {
    if (body.trim().length === 0) errors.push({ field: 'body', message: 'an SMS needs a non-empty body' });
    if ([...body].length > channelLimits.smsBodyMaxChars)
      errors.push({ field: 'body', message: `an SMS body is at most ${channelLimits.smsBodyMaxChars} characters` });
    if (attachments.length > 0)
      errors.push({ field: 'attachments', message: 'an SMS cannot carry attachments; send it as type mms' });
  }
  if (channel === 'mms') {
    if (body.trim().length === 0 && attachments.length === 0)
      errors.push({ field: 'body', message: 'an MMS needs a body or at least one attachment' });
    if ([...body].length > channelLimits.smsBodyMaxChars)
      errors.push({ field: 'body', message: `an MMS body is at most ${channelLimits.smsBodyMaxChars} characters` });
    if (attachments.length > channelLimits.mmsMaxAttachments)
      errors.push({
        field: 'attachments',
        message: `an MMS carries at most ${channelLimits.mmsMaxAttachments} attachments`,
      });
  }
  if (channel === 'email') {
    if (body.trim().length === 0) errors.push({ field: 'body', message: 'an email needs a non-empty body' });
    if (body.length > channelLimits.emailBodyMaxChars)
      errors.push({ field: 'body', message: `an email body is at most ${channelLimits.emailBodyMaxChars} characters` });
    if (attachments.length > channelLimits.emailMaxAttachments)
      errors.push({
        field: 'attachments',
        message: `an email carries at most ${channelLimits.emailMaxAttachments} attachments`,
      });
    if ((content.cc?.length ?? 0) + (content.bcc?.length ?? 0) > channelLimits.emailMaxCopies)
      errors.push({
        field: 'cc',
        message: `cc and bcc together hold at most ${channelLimits.emailMaxCopies} addresses`,
      });
    if (content.subject && content.subject.length > channelLimits.subjectMaxChars)
      errors.push({ field: 'subject', message: `a subject is at most ${channelLimits.subjectMaxChars} characters` });
  }
  return errors;
}
