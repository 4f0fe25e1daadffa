// The one way processes read the read-model tables: a slonik pool whose every row is parsed by the zod
// row schema its query declares (`sql.type(schema)`). slonik itself only uses the schema for types; the
// interceptor below is what makes drift between the migrations and the readers fail loudly instead of
// being cast. Writers (the projector's batches, the append path) stay on plain `pg`.
import {
  createPool,
  type DatabasePool,
  type Interceptor,
  type Query,
  type QueryResultRow,
  type SchemaValidationError,
  SlonikError,
} from 'slonik';
import { z } from 'zod';
import { rowMatches } from './row-checks.ts';

/** A read-model row that does not match its query's row schema (a migration and a reader disagree). */
// The same fields as slonik's SchemaValidationError, with a message that says which columns disagree.
export class ReadModelRowError extends SlonikError {
  readonly sql: string;
  constructor(
    query: Query,
    readonly row: QueryResultRow,
    readonly issues: SchemaValidationError['issues'],
  ) {
    const problems = issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ');
    const statement = query.sql.replace(/\s+/g, ' ').trim().slice(0, 160);
    super(`read-model row does not match its schema (${problems}) in query: ${statement}`);
    this.name = 'ReadModelRowError';
    this.sql = query.sql;
  }
}

/**
 * Checks every row against its query's schema; a query that returns rows without declaring one is refused.
 * It checks in place (afterQueryExecution) rather than replacing rows (transformRow): copying every row
 * cost ≈25% more CPU per conversations page, checking costs next to nothing. So row schemas must not
 * transform (no .transform/.default/coerce): the rows are used as they arrived. The check itself is the
 * schema compiled once (row-checks.ts); zod still judges what that does not cover and names the issues.
 */
export function createRowSchemaInterceptor(): Interceptor {
  return {
    name: 'read-model-row-schema',
    afterQueryExecution: (context, query, result) => {
      const schema = context.resultParser;
      for (const row of result.rows) {
        // sql.unsafe declares z.any(): only an object schema of the row's columns counts as a row schema.
        if (!(schema instanceof z.ZodObject))
          throw new ReadModelRowError(query, row, [
            {
              code: 'custom',
              path: [],
              message: 'the query declares no row schema (use sql.type(z.object(…)))',
              input: row,
            },
          ]);
        if (rowMatches(schema, row)) continue;
        const parsed = schema.safeParse(row);
        if (!parsed.success) throw new ReadModelRowError(query, row, parsed.error.issues);
      }
      return null;
    },
  };
}

export interface ReadPoolOptions {
  maximumPoolSize?: number;
  /** Default 60 s; audits that checksum whole tables pass 'DISABLE_TIMEOUT'. */
  statementTimeout?: number | 'DISABLE_TIMEOUT';
  /** Default 5 s. */
  connectionTimeout?: number;
  /** Default 10 s: a reader never leaves a transaction open longer. */
  idleInTransactionSessionTimeout?: number | 'DISABLE_TIMEOUT';
}

export type ReadPool = DatabasePool;

export function createReadPool(connectionString: string, options: ReadPoolOptions = {}): Promise<ReadPool> {
  return createPool(connectionString, {
    interceptors: [createRowSchemaInterceptor()],
    maximumPoolSize: options.maximumPoolSize ?? 10,
    statementTimeout: options.statementTimeout ?? 60_000,
    connectionTimeout: options.connectionTimeout ?? 5_000,
    idleInTransactionSessionTimeout: options.idleInTransactionSessionTimeout ?? 10_000,
    // pg's own parsers, not slonik's preset: timestamps arrive as Date (slonik's preset gives epoch
    // milliseconds via Date.parse) and int8 as a string, so the API's JSON stays exactly what it was.
    typeParsers: [],
    // slonik's default runs DISCARD ALL on every release: one more round trip per query (≈40% more CPU
    // per page in bin/bench query). Readers here never leave session state behind (no SET, temp tables,
    // LISTEN; transactions end in COMMIT/ROLLBACK). It must stay async: slonik 47 hands out a connection
    // released without an await in between while still marking it "pending release".
    resetConnection: async () => {},
  });
}
