// Opaque keyset cursors: the sort key of the last row of a page. A page after it is exactly the rows that
// sort after it, so concurrent inserts never shift or repeat rows (unlike OFFSET).
import { Problem } from '@hatch/http';

export interface SortKey {
  /** Microseconds since the epoch (exact for timestamptz). */
  micros: string;
  id: string;
}

export const encodeCursor = (key: SortKey) => Buffer.from(`${key.micros}.${key.id}`).toString('base64url');

// Sort keys are instants the read tables hold (years 0001 to 9999): a crafted cursor beyond them would
// overflow the bigint or timestamptz arithmetic in PostgreSQL (a 500) instead of being the client's mistake.
const minMicros = BigInt(Date.parse('0001-01-01T00:00:00Z')) * 1000n;
const maxMicros = BigInt(Date.parse('9999-12-31T23:59:59.999Z')) * 1000n + 999n;

export function decodeCursor(cursor: string): SortKey {
  const match = /^(-?\d{1,20})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  const micros = match ? BigInt(match[1] as string) : null;
  if (!match || micros === null || micros < minMicros || micros > maxMicros)
    throw new Problem(400, 'invalid-cursor', 'Invalid cursor', {
      detail: 'querystring.cursor: use nextCursor as given',
      errors: [{ field: 'querystring.cursor', message: 'not a cursor this API issued' }],
    });
  return { micros: micros.toString(), id: match[2] as string };
}
