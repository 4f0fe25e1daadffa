// An EventStoreDB log position is the ($all) pair (commit position, prepare position), printed
// zero-padded so that the opaque strings sort exactly like the pairs.
import type { LogPosition } from '../event-store.ts';

const width = 20; // 2^64 has 20 decimal digits

export interface EventStoreDbPosition {
  commit: bigint;
  prepare: bigint;
}

export const formatEsdbPosition = (position: EventStoreDbPosition): LogPosition =>
  `${position.commit.toString().padStart(width, '0')}-${position.prepare.toString().padStart(width, '0')}`;

const maxUint64 = 2n ** 64n - 1n;

export function parseEsdbPosition(position: LogPosition): EventStoreDbPosition {
  // Only the canonical (zero-padded) form: the strings are compared as strings, so `1-1` would sort after
  // every real position and a read-your-writes wait on it could never end.
  const match = /^(\d{20})-(\d{20})$/.exec(position);
  if (!match) throw new TypeError(`not an EventStoreDB log position: ${position}`);
  const commit = BigInt(match[1] as string);
  const prepare = BigInt(match[2] as string);
  // EventStoreDB positions are unsigned 64-bit: 20 digits can say more than that.
  if (commit > maxUint64 || prepare > maxUint64) throw new RangeError(`log position out of range: ${position}`);
  return { commit, prepare };
}
