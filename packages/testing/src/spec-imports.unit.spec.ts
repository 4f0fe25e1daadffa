// No spec reaches into another service's or package's internals: a relative import that leaves the spec's
// own workspace folder must not land in another one's src/ (use its package export or the test kit).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const repositoryRoot = join(import.meta.dirname, '..', '..', '..');

/** The workspace folder a repository-relative path belongs to: `services/x`, `packages/x`, `infra`, … */
const ownerOf = (path: string) => {
  const parts = path.split(sep);
  return parts[0] === 'services' || parts[0] === 'packages' ? parts.slice(0, 2).join(sep) : (parts[0] ?? '');
};

const importPattern = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of `source` (a file at `file`, repository-relative) that land in another folder's src/. */
function foreignSourceImports(file: string, source: string): string[] {
  const owner = ownerOf(file);
  const found: string[] = [];
  for (const match of source.matchAll(importPattern)) {
    const specifier = match[1] as string;
    const target = relative(repositoryRoot, resolve(repositoryRoot, dirname(file), specifier));
    const targetOwner = ownerOf(target);
    if (targetOwner !== owner && target.split(sep).includes('src')) found.push(specifier);
  }
  return found;
}

const specFiles = () =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.spec.ts'], {
    cwd: repositoryRoot,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);

describe('spec imports', () => {
  // The statements are assembled so that this file's own source holds no such import.
  const importOf = (specifier: string) => `import { x } from '${specifier}';`;

  it('finds a relative import into another service src/ (the check can fail)', () => {
    const file = join('services', 'query-api', 'src', 'contacts.e2e.spec.ts');
    const intoDispatcher = ['..', '..', 'dispatcher', 'src', 'testing', 'stack.ts'].join('/');
    const intoInfra = ['..', '..', '..', 'infra', 'src', 'local-stack.ts'].join('/');
    const intoDomain = ['..', '..', '..', 'packages', 'domain', 'src', 'ids.ts'].join('/');
    expect(foreignSourceImports(file, importOf(intoDispatcher))).toEqual([intoDispatcher]);
    expect(foreignSourceImports(file, importOf(intoInfra))).toEqual([intoInfra]);
    expect(foreignSourceImports(file, `const m = await import('${intoDomain}');`)).toEqual([intoDomain]);
    expect(foreignSourceImports(file, importOf('./testing/inbox-host.ts'))).toEqual([]);
    expect(foreignSourceImports(file, importOf('@hatch/testing/processes'))).toEqual([]);
  });

  it('no spec in the repository imports another service or package src/', () => {
    const files = specFiles();
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      foreignSourceImports(file, readFileSync(join(repositoryRoot, file), 'utf8')).map((s) => `${file}: ${s}`),
    );
    expect(offending).toEqual([]);
  });
});
