// Responses written by fast-json-stringify from the route's zod schema turned into JSON Schema (zod stays
// the one source of the contract, the validation of requests and the OpenAPI document). The zod type
// provider's own serializer parses every answer with zod before JSON.stringify: for a 50-item page that
// parse and its garbage were the largest share of the query API's CPU. fast-json-stringify still writes
// only the schema's fields and refuses an answer missing a required one; it does not re-check formats.
import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;
type ResponseSchema = z.core.$ZodType | { properties: z.core.$ZodType };

/**
 * `anyOf: [T, null]` (zod's nullable) as `type: [T, 'null']`: fast-json-stringify would otherwise run a
 * schema validator on every value to pick the branch.
 */
function simplify(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(simplify);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) if (key !== '$schema') out[key] = simplify(value);
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const [a, b] = anyOf as JsonSchema[];
    const nonNull = b?.type === 'null' ? a : a?.type === 'null' ? b : undefined;
    if (nonNull && typeof nonNull.type === 'string' && Object.keys(out).length === 1)
      return { ...nonNull, type: [nonNull.type, 'null'] };
  }
  return out;
}

/** For a scope's routes (`scope.setSerializerCompiler`): object answers by fast-json-stringify, others as before. */
export const fastSerializerCompiler: FastifySerializerCompiler<ResponseSchema> = (route) => {
  const schema = route.schema;
  if (!(schema instanceof z.ZodObject)) return serializerCompiler(route);
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
  return fastJson(simplify(json) as Parameters<typeof fastJson>[0]);
};
