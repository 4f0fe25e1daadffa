// Opaque keyset cursors: the sort key of the last row of a page. A page after it is exactly the rows that
// sort after it, so concurrent inserts never shift or repeat rows (unlike OFFSET).
import { Problem } from '@hatch/http';

export interface SortKey {
  /** Microseconds since the epoch (exact for timestamptz). */
  micros: string;
  id: string;
}

export const encodeCursor = (key: SortKey) => Buffer.from(`${key.micros}.${key.id}`).toString('base64url');

export function decodeCursor(cursor: string): SortKey {
  const match = /^(-?\d{1,20})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new Problem(400, 'invalid-cursor', 'Invalid cursor', { detail: 'use nextCursor as given' });
  return { micros: match[1] as string, id: match[2] as string };
}
