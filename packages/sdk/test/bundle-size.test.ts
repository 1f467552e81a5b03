import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const PACKAGE = fileURLToPath(new URL('../', import.meta.url));
/** The goal for a browser app that talks REST only: its whole client, minified and gzipped. */
const REST_ONLY_GOAL = 15 * 1024;

/** A browser app's bundle of one built entry (minified, as an app ships it): its gzipped size and its inputs. */
async function bundle(entry: string, code: string) {
  const result = await build({
    stdin: { contents: code.replace('ENTRY', `./dist/${entry}.js`), resolveDir: PACKAGE, loader: 'js' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const text = result.outputFiles[0]?.text ?? '';
  return { gzipped: gzipSync(text).length, inputs: Object.keys(result.metafile.inputs) };
}

describe('what a browser app ships of the SDK', () => {
  it('the REST-only entry (`@api-users/sdk/rest`) is under 15 kB gzipped, with no zod and no tRPC', async () => {
    const app = `import { createClient, memoryTokenStore } from 'ENTRY';
      export const api = createClient({ baseUrl: location.origin, tokenStore: memoryTokenStore() });`;
    const rest = await bundle('rest', app);
    const full = await bundle('index', app);
    console.log(
      `bundle sizes (minified + gzip): @api-users/sdk/rest ${(rest.gzipped / 1024).toFixed(1)} kB, ` +
        `@api-users/sdk ${(full.gzipped / 1024).toFixed(1)} kB`,
    );
    expect(rest.inputs.filter((input) => /node_modules\/(zod|@trpc)\//.test(input))).toEqual([]);
    expect(rest.gzipped).toBeLessThan(REST_ONLY_GOAL);
    // The main entry, used for REST alone, tree-shakes to about the same: its REST client reads no schema either.
    expect(full.gzipped).toBeLessThan(REST_ONLY_GOAL);
  });
});
