// A PostgreSQL log position is (transaction id, position), printed zero-padded so that the
// opaque strings sort exactly like the pairs.
import type { LogPosition } from '../event-store.ts';

const width = 20;
const maxXid8 = 2n ** 64n - 1n;
const maxBigint = 2n ** 63n - 1n;

export const formatPosition = (transactionId: string | bigint, position: string | bigint): LogPosition =>
  `${String(transactionId).padStart(width, '0')}-${String(position).padStart(width, '0')}`;

export function parsePosition(position: LogPosition): { transactionId: string; position: string } {
  // Only the canonical (zero-padded) form: the strings are compared as strings, so `1-1` would sort after
  // every real position and a read-your-writes wait on it could never end.
  const match = /^(\d{20})-(\d{20})$/.exec(position);
  if (!match) throw new TypeError(`not a PostgreSQL log position: ${position}`);
  const transactionId = BigInt(match[1] as string);
  const row = BigInt(match[2] as string);
  // 20 digits fit the pattern but not the columns (xid8 is unsigned 64-bit, the position a bigint): a
  // crafted position must be the caller's mistake, not a database error.
  if (transactionId > maxXid8 || row > maxBigint) throw new RangeError(`log position out of range: ${position}`);
  return { transactionId: transactionId.toString(), position: row.toString() };
}
