// A stable hash of a request body: the same JSON value in any key order gives the same fingerprint.
// Stored with a keyed send, so a retried POST can be told apart from a different body under the same key.
import { hash } from 'node:crypto';

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export const requestFingerprint = (value: unknown) => hash('sha256', canonical(value), 'hex');
