// What an endpoint URL may be, checked when it is registered or changed. Production: https only (the
// notifier checks again after DNS, at delivery time, that the address is public). Local mode: http too,
// so a receiver on 127.0.0.1 works in development.
import type { FieldError } from '../messages/channel-rules.ts';

export interface EndpointUrlPolicy {
  production: boolean;
}

const maxLength = 2048;

export function checkEndpointUrl(raw: string, policy: EndpointUrlPolicy, field = 'url'): FieldError[] {
  if (raw.length > maxLength) return [{ field, message: `must be at most ${maxLength} characters` }];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0020\u007f]/.test(raw)) return [{ field, message: 'must not contain spaces or control characters' }];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [{ field, message: 'must be an absolute URL' }];
  }
  if (policy.production && url.protocol !== 'https:') return [{ field, message: 'must use https in production mode' }];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return [{ field, message: 'must be http or https' }];
  // Credentials in a URL end up in logs and listings; the signature is how a receiver authenticates us.
  if (url.username || url.password) return [{ field, message: 'must not carry a user name or password' }];
  if (url.hash) return [{ field, message: 'must not have a #fragment' }];
  return [];
}

/** The URL as stored and called: WHATWG-normalised (punycode host, percent-encoded path), so always ASCII. */
export const normalisedEndpointUrl = (raw: string) => new URL(raw).href;
