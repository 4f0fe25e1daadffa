// Schema-qualified names: the same projection code writes the live tables (public) and audit copies.
const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertIdentifier(name: string): string {
  if (!identifier.test(name)) throw new RangeError(`not a plain lower-case SQL identifier: ${name}`);
  return name;
}

export const qualified = (schema: string, table: string) => `${assertIdentifier(schema)}.${assertIdentifier(table)}`;

/**
 * Multi-row upsert of whole rows given as JSON objects keyed by column name: one statement per table per
 * batch. Rows are complete (folded in memory from the loaded row), so a conflict overwrites every column.
 */
export function upsertRowsSql(schema: string, table: string, columns: readonly string[], key: readonly string[]) {
  const target = qualified(schema, table);
  const updates = columns.filter((c) => !key.includes(c));
  return `INSERT INTO ${target} (${columns.join(', ')})
    SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${target}, $1::json)
    ON CONFLICT (${key.join(', ')}) DO UPDATE SET (${updates.join(', ')}) = ROW(${updates.map((c) => `EXCLUDED.${c}`).join(', ')})`;
}

/** Rows keyed by id as JSON (timestamps as ISO strings, arrays as arrays), for the pure fold. */
export function selectRowsByIdSql(schema: string, table: string, key: string, keyType: string) {
  return `SELECT row_to_json(t) AS row FROM ${qualified(schema, table)} t WHERE ${key} = ANY($1::${keyType}[])`;
}

/** Compares two ISO timestamps (either may carry an offset other than Z). */
export const compareInstants = (a: string, b: string) => Date.parse(a) - Date.parse(b);
