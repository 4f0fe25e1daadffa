// A row schema compiled once into plain checks, for the read pool's every-row validation. zod stays the
// contract: only the kinds below (with no refinements) are compiled, exactly as zod accepts them; any other
// column is checked by zod itself, and a row that fails is handed to zod for the issues it reports.
// bin/bench query: zod's safeParse per row was most of the query API's CPU beyond the HTTP work.
import type { z } from 'zod';

type Check = (value: unknown) => boolean;

const isInt = (checks: readonly unknown[]) =>
  checks.length === 1 &&
  (checks[0] as { _zod?: { def?: { check?: string; format?: string } } })._zod?.def?.check === 'number_format' &&
  (checks[0] as { _zod: { def: { format?: string } } })._zod.def.format === 'safeint';

/** The compiled check of one column schema, or null when only zod itself may judge it. */
function compile(schema: z.core.$ZodType): Check | null {
  const def = schema._zod.def as z.core.$ZodTypeDef & {
    checks?: readonly unknown[];
    innerType?: z.core.$ZodType;
    element?: z.core.$ZodType;
    entries?: Record<string, string | number>;
    values?: readonly unknown[];
  };
  const checks = def.checks ?? [];
  switch (def.type) {
    case 'string':
      return checks.length === 0 ? (v) => typeof v === 'string' : null;
    case 'boolean':
      return checks.length === 0 ? (v) => typeof v === 'boolean' : null;
    case 'number':
      if (checks.length === 0) return (v) => typeof v === 'number' && Number.isFinite(v);
      return isInt(checks) ? (v) => Number.isSafeInteger(v) : null;
    case 'date':
      return checks.length === 0 ? (v) => v instanceof Date && !Number.isNaN(v.getTime()) : null;
    case 'enum': {
      const allowed = new Set(Object.values(def.entries ?? {}));
      return checks.length === 0 ? (v) => allowed.has(v as string) : null;
    }
    case 'literal': {
      const allowed = new Set(def.values ?? []);
      return (v) => allowed.has(v);
    }
    case 'nullable': {
      const inner = def.innerType ? compile(def.innerType) : null;
      return inner ? (v) => v === null || inner(v) : null;
    }
    case 'array': {
      const element = def.element ? compile(def.element) : null;
      return element && checks.length === 0 ? (v) => Array.isArray(v) && v.every(element) : null;
    }
    default:
      return null;
  }
}

const compiled = new WeakMap<z.ZodObject, (row: Record<string, unknown>) => boolean>();

/**
 * Whether the row matches the object schema (its columns; extra columns are ignored, as zod strips them).
 * False only where zod's safeParse fails too, so the caller asks zod for the issues then.
 */
export function rowMatches(schema: z.ZodObject, row: Record<string, unknown>): boolean {
  let check = compiled.get(schema);
  if (!check) {
    const columns = Object.entries(schema.shape as Record<string, z.core.$ZodType>).map(
      ([name, column]) => [name, compile(column)] as const,
    );
    const fast = columns.filter((c): c is readonly [string, Check] => c[1] !== null);
    // A column only zod may judge, or a rule for extra columns (strictObject): the whole row goes to zod.
    const plain = (schema._zod.def as { catchall?: unknown }).catchall === undefined;
    check =
      plain && fast.length === columns.length
        ? (r) => {
            for (const [name, columnCheck] of fast) if (!columnCheck(r[name])) return false;
            return true;
          }
        : (r) => schema.safeParse(r).success;
    compiled.set(schema, check);
  }
  return check(row);
}
