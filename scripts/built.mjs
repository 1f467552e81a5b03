// Runs one of the server's commands (`start`, `admin`, `migrate`, `import-flask`, the benchmarks) after turbo has
// built what it needs. A build with nothing changed is turbo's cache, about half a second; its banner and summary
// are shown only when the build fails, so a command prints its own lines and nothing else.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (entry === undefined) {
  console.error('usage: node scripts/built.mjs <file to run after the build> [its arguments]');
  process.exit(2);
}
// The server serves the dashboard's build when there is one: `start` builds it too.
const packages = entry.endsWith('/main.js')
  ? ['@api-users/server...', '@api-users/dashboard...']
  : ['@api-users/server...'];
const turbo = fileURLToPath(new URL('../node_modules/.bin/turbo', import.meta.url));
const build = spawnSync(
  turbo,
  ['run', 'build', ...packages.map((name) => `--filter=${name}`), '--output-logs=errors-only'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
);
if (build.status !== 0) {
  process.stderr.write(build.error ? `${build.error.message}\n` : build.stdout + build.stderr);
  process.exit(build.status ?? 1);
}
// The command runs in this process, as if started itself: its own argv, no process in between for signals.
const file = resolve(entry);
process.argv = [process.argv[0], file, ...args];
await import(pathToFileURL(file).href);
