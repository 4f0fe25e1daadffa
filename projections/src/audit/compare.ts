// Per-table row counts and checksums (md5 over the md5 of each row's text, in primary-key order), and a
// sample of the rows that differ, between the live tables and an audit schema. Read through the read pool
// (row schemas parsed on every row), on one connection or transaction when a snapshot matters.
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import type { Projection } from '../projection.ts';
import { assertIdentifier } from '../sql.ts';

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

const orderKeys: Record<string, readonly string[]> = {
  conversations: ['conversation_id'],
  conversation_participants: ['address', 'conversation_id'],
  messages: ['message_id'],
  message_events: ['message_id', 'position'],
  contacts: ['contact_id'],
  contact_addresses: ['account_id', 'address'],
  contact_consents: ['account_id', 'address', 'sender', 'channel'],
  accounts: ['account_id'],
  account_senders: ['sender'],
  api_keys: ['key_id'],
};

const tableName = (schema: string, table: string) =>
  sql.identifier([assertIdentifier(schema), assertIdentifier(table)]);

// count(*) is int8, which the read pool leaves as a string (exact); a table's row count fits a number.
const summaryRow = z.object({ rows: z.string(), checksum: z.string().nullable() });
const rowText = z.object({ row: z.string() });

export async function summarizeTable(db: CommonQueryMethods, schema: string, table: string): Promise<TableSummary> {
  const keys = orderKeys[table];
  const order = keys
    ? sql.join(
        keys.map((k) => sql.identifier(['t', k])),
        sql.fragment`, `,
      )
    : sql.fragment`1`;
  const row = await db.one(
    sql.type(
      summaryRow,
    )`SELECT count(*)::bigint AS rows, md5(string_agg(md5(t::text), '' ORDER BY ${order})) AS checksum
       FROM ${tableName(schema, table)} t`,
  );
  return { rows: Number(row.rows), checksum: row.checksum ?? md5Empty };
}

const md5Empty = 'd41d8cd98f00b204e9800998ecf8427e';

export async function compareSchemas(
  db: CommonQueryMethods,
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
      const a = tableName(liveSchema, table);
      const b = tableName(rebuiltSchema, table);
      const diff = async (x: typeof a, y: typeof b) =>
        (
          await db.any(
            sql.type(
              rowText,
            )`SELECT d::text AS row FROM (SELECT * FROM ${x} EXCEPT SELECT * FROM ${y}) d LIMIT ${sampleSize}`,
          )
        ).map((r) => r.row);
      onlyLive = await diff(a, b);
      onlyRebuilt = await diff(b, a);
    }
    result.push({ table, live, rebuilt, equal, onlyLive, onlyRebuilt });
  }
  return result;
}
