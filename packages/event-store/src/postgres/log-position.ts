// A PostgreSQL log position is (transaction id, position), printed zero-padded so that the
// opaque strings sort exactly like the pairs.
import type { LogPosition } from '../event-store.ts';

const width = 20;

export const formatPosition = (transactionId: string | bigint, position: string | bigint): LogPosition =>
  `${String(transactionId).padStart(width, '0')}-${String(position).padStart(width, '0')}`;

export function parsePosition(position: LogPosition): { transactionId: string; position: string } {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(position);
  if (!match) throw new TypeError(`not a PostgreSQL log position: ${position}`);
  return { transactionId: BigInt(match[1] as string).toString(), position: BigInt(match[2] as string).toString() };
}
