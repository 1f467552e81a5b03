import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

interface Manifest {
  name: string;
  license?: string;
  engines?: { node?: string };
  files?: string[];
  exports?: Record<string, unknown>;
  [field: string]: unknown;
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
/** What npm packs whatever `files` says. */
const ALWAYS_PACKED = ['package.json', 'README.md', 'LICENSE'];

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));

/** Every file an `exports` value points to, whatever the nesting of its conditions. */
const targetsOf = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : value && typeof value === 'object'
      ? Object.values(value).flatMap(targetsOf)
      : [];

/**
 * What is wrong with an unpacked tarball (`dir` is its `package/` folder), as sentences; none when it is
 * complete. `published` names every package of ours that a registry will have; `engines` is the repository's.
 */
export function tarballProblems(dir: string, published: ReadonlySet<string>, engines: string): string[] {
  const problems: string[] = [];
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const files = filesUnder(dir);
  const has = (path: string) => existsSync(join(dir, path));

  for (const path of ['README.md', 'LICENSE', 'CHANGELOG.md']) if (!has(path)) problems.push(`no ${path}`);
  if (manifest.license !== 'MIT') problems.push(`license is ${manifest.license}, not MIT`);
  if (has('LICENSE') && !readFileSync(join(dir, 'LICENSE'), 'utf8').startsWith('MIT License')) {
    problems.push('LICENSE is not the MIT license');
  }
  if (manifest.engines?.node !== engines) problems.push(`engines.node is ${manifest.engines?.node}, not ${engines}`);

  const raw = readFileSync(join(dir, 'package.json'), 'utf8');
  for (const protocol of ['workspace:', 'catalog:']) {
    if (raw.includes(`"${protocol}`)) problems.push(`package.json still says ${protocol}`);
  }
  for (const field of DEPENDENCY_FIELDS) {
    for (const dependency of Object.keys((manifest[field] as Record<string, string> | undefined) ?? {})) {
      if (dependency.startsWith('@api-users/') && !published.has(dependency)) {
        problems.push(`${field} names ${dependency}, which is not published`);
      }
    }
  }

  if (!manifest.files) problems.push('no files field: everything not ignored would be packed');
  for (const file of files) {
    const declared = [...ALWAYS_PACKED, ...(manifest.files ?? [])];
    if (!declared.some((entry) => file === entry || file.startsWith(`${entry}/`))) problems.push(`${file} is packed`);
  }

  if (!manifest.exports) problems.push('no exports field');
  for (const [subpath, conditions] of Object.entries(manifest.exports ?? {})) {
    const types = (conditions as { types?: unknown } | null)?.types;
    if (typeof types !== 'string' || !types.endsWith('.d.ts')) problems.push(`export ${subpath} has no types`);
    for (const target of targetsOf(conditions)) {
      if (!has(target)) problems.push(`export ${subpath} points to ${target}, which is not packed`);
    }
  }

  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (file.endsWith('.map')) {
      const map = JSON.parse(text) as { sources?: string[]; sourceRoot?: string };
      for (const source of map.sources ?? []) {
        const path = resolve(join(dir, dirname(file)), map.sourceRoot ?? '', source);
        if (!existsSync(path)) problems.push(`${file} maps to ${source}, which is not packed`);
      }
    }
    for (const [, url] of text.matchAll(/[#@] sourceMappingURL=(\S+)/g)) {
      if (url && !url.startsWith('data:') && !existsSync(resolve(join(dir, dirname(file)), url))) {
        problems.push(`${file} names the source map ${url}, which is not packed`);
      }
    }
  }
  return problems;
}
