// Schema-qualified names: the same projection code writes the live tables (public) and audit copies.
const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertIdentifier(name: string): string {
  if (!identifier.test(name)) throw new RangeError(`not a plain lower-case SQL identifier: ${name}`);
  return name;
}

export const qualified = (schema: string, table: string) => `${assertIdentifier(schema)}.${assertIdentifier(table)}`;

/** Insert of whole new rows (no conflict expected: the batch loaded every existing row it touches). */
export function insertRowsSql(schema: string, table: string, columns: readonly string[]) {
  const target = qualified(schema, table);
  return `INSERT INTO ${target} (${columns.join(', ')})
    SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${target}, $1::json)`;
}

/** Update of whole existing rows by key. */
export function updateRowsSql(schema: string, table: string, columns: readonly string[], key: string) {
  const target = qualified(schema, table);
  const updates = columns.filter((c) => c !== key);
  return `UPDATE ${target} AS t SET (${updates.join(', ')}) = ROW(${updates.map((c) => `s.${c}`).join(', ')})
    FROM json_populate_recordset(NULL::${target}, $1::json) AS s WHERE t.${key} = s.${key}`;
}

/** Writes folded rows back: new ones inserted, loaded ones updated (cheaper than a generic upsert). */
export async function writeRows<Row extends object>(
  db: { query(text: string, values?: unknown[]): Promise<unknown> },
  target: { schema: string; table: string; columns: readonly string[]; key: keyof Row & string },
  rows: Iterable<Row>,
  existing: ReadonlySet<string>,
) {
  const created: Row[] = [];
  const changed: Row[] = [];
  for (const row of rows) (existing.has(row[target.key] as string) ? changed : created).push(row);
  if (created.length > 0)
    await db.query(insertRowsSql(target.schema, target.table, target.columns), [JSON.stringify(created)]);
  if (changed.length > 0)
    await db.query(updateRowsSql(target.schema, target.table, target.columns, target.key), [JSON.stringify(changed)]);
}

/** Rows keyed by id as JSON (timestamps as ISO strings, arrays as arrays), for the pure fold. */
export function selectRowsByIdSql(schema: string, table: string, key: string, keyType: string) {
  return `SELECT row_to_json(t) AS row FROM ${qualified(schema, table)} t WHERE ${key} = ANY($1::${keyType}[])`;
}

/** Compares two ISO timestamps (either may carry an offset other than Z). */
export const compareInstants = (a: string, b: string) => Date.parse(a) - Date.parse(b);

/** Insert-or-replace of whole rows by their key columns (a batch's rows, as JSON). */
export function upsertRowsSql(schema: string, table: string, columns: string[], key: string[]) {
  const target = qualified(schema, table);
  const updates = columns.filter((c) => !key.includes(c));
  return `INSERT INTO ${target} (${columns.join(', ')})
    SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${target}, $1::json)
    ON CONFLICT (${key.join(', ')}) DO UPDATE SET (${updates.join(', ')}) = ROW(${updates.map((c) => `EXCLUDED.${c}`).join(', ')})`;
}
