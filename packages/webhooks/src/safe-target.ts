// Server-side request forgery guard for customer URLs (production). The check runs in the socket's own
// DNS lookup, so the address that is checked is the address connected to: a name that resolves to a
// public address when registered and to 169.254.169.254 at delivery time is still refused.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Only ordinary public unicast: loopback, private, link-local (cloud metadata), CGNAT, reserved… are not. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  // process(): an IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  return ipaddr.process(address).range() === 'unicast';
}

export class UnsafeTargetError extends Error {
  override readonly name = 'UnsafeTargetError';
}

/** A `lookup` for http.request that refuses non-public addresses. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const unsafe = addresses.find((a) => !isPublicAddress(a.address));
    if (unsafe || addresses.length === 0)
      return callback(
        new UnsafeTargetError(`${hostname} resolves to ${unsafe?.address ?? 'nothing'}, not a public address`),
        '',
        0,
      );
    if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
};

/** An IP literal in the URL skips DNS (and so the lookup): judge it directly. */
export function checkLiteralHost(hostname: string) {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) && !isPublicAddress(bare)) throw new UnsafeTargetError(`${bare} is not a public address`);
}
