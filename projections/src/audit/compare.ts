// Per-table row counts and checksums (md5 over the md5 of each row's text, in primary-key order), and a
// sample of the rows that differ, between the live tables and an audit schema.
import type pg from 'pg';
import type { Projection } from '../projection.ts';
import { qualified } from '../sql.ts';

export interface TableSummary {
  rows: number;
  checksum: string;
}

export interface TableComparison {
  table: string;
  live: TableSummary;
  rebuilt: TableSummary;
  equal: boolean;
  /** Up to `sampleSize` rows only in the live table / only in the rebuilt one (row text). */
  onlyLive: string[];
  onlyRebuilt: string[];
}

const orderKeys: Record<string, string> = {
  conversations: 'conversation_id',
  conversation_participants: 'address, conversation_id',
  messages: 'message_id',
  message_events: 'message_id, position',
  contacts: 'contact_id',
  contact_addresses: 'address',
  contact_consents: 'address, sender, channel',
  accounts: 'account_id',
  account_senders: 'sender',
  api_keys: 'key_id',
};

export async function summarizeTable(db: pg.ClientBase, schema: string, table: string): Promise<TableSummary> {
  const order = orderKeys[table] ?? '1';
  const { rows } = await db.query<{ rows: string; checksum: string | null }>(
    `SELECT count(*)::bigint AS rows, md5(string_agg(md5(t::text), '' ORDER BY ${order})) AS checksum
       FROM ${qualified(schema, table)} t`,
  );
  return { rows: Number(rows[0]?.rows ?? 0), checksum: rows[0]?.checksum ?? md5Empty };
}

const md5Empty = 'd41d8cd98f00b204e9800998ecf8427e';

export async function compareSchemas(
  db: pg.ClientBase,
  projections: readonly Projection[],
  liveSchema: string,
  rebuiltSchema: string,
  sampleSize = 5,
): Promise<TableComparison[]> {
  const result: TableComparison[] = [];
  for (const table of projections.flatMap((p) => p.tables)) {
    const live = await summarizeTable(db, liveSchema, table);
    const rebuilt = await summarizeTable(db, rebuiltSchema, table);
    const equal = live.rows === rebuilt.rows && live.checksum === rebuilt.checksum;
    let onlyLive: string[] = [];
    let onlyRebuilt: string[] = [];
    if (!equal) {
      const a = qualified(liveSchema, table);
      const b = qualified(rebuiltSchema, table);
      const diff = async (x: string, y: string) =>
        (
          await db.query<{ row: string }>(
            `SELECT d::text AS row FROM (SELECT * FROM ${x} EXCEPT SELECT * FROM ${y}) d LIMIT ${sampleSize}`,
          )
        ).rows.map((r) => r.row);
      onlyLive = await diff(a, b);
      onlyRebuilt = await diff(b, a);
    }
    result.push({ table, live, rebuilt, equal, onlyLive, onlyRebuilt });
  }
  return result;
}
