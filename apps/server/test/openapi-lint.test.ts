import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
/** The committed document, which openapi.test.ts holds equal to the generated one. */
const DOCUMENT = 'openapi.json';

/** Runs a linter's CLI from the server package (its config files are there); a failing exit still has a report. */
async function lint(command: string, args: string[]): Promise<string> {
  try {
    return (await run('npx', ['--no-install', command, ...args], { cwd: SERVER_DIR })).stdout;
  } catch (err) {
    const { stdout } = err as { stdout?: string };
    if (!stdout) throw err;
    return stdout;
  }
}

describe('the OpenAPI document passes the linters new users run on it', () => {
  it('Redocly (recommended rules): no error, no warning', async () => {
    const report = JSON.parse(await lint('redocly', ['lint', '--format=json', DOCUMENT]));
    expect(report.problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  });

  it('Spectral (OpenAPI ruleset): no problem at any severity', async () => {
    const report = JSON.parse(
      await lint('spectral', ['lint', '--quiet', '--format=json', '--fail-severity=hint', DOCUMENT]),
    );
    expect(report).toEqual([]);
  });
});
