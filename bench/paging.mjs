// The users list on a database of CFG.rows users: the first page, a deep page and a role-filtered deep page over
// HTTP, plus the queries alone (micro.mjs). Keyset pagination should make every page cost the same.
import { Api, measure, preflight } from './api.mjs';
import { CFG, elapsed, log } from './config.mjs';
import { createDatabase, migrateAndSeed } from './databases.mjs';
import { restPath } from './lib.mjs';
import { filterCost, pagingCost, searchCost } from './micro.mjs';

export async function measurePaging(out) {
  const { dialect } = out;
  const C = CFG.connections;
  // --- Part 2: CFG.rows users, first page vs a deep page.
  const big = await createDatabase(dialect, 'apiu_bench_1m');
  try {
    out.seedSeconds = await migrateAndSeed(dialect, big.url, CFG.rows);
    log(`${elapsed()} ${dialect} seeded ${CFG.rows} users in ${out.seedSeconds.toFixed(1)} s`);
    out.paging = await pagingCost(big.url, CFG.deepCursor);
    out.filters = await filterCost(big.url, CFG.deepCursor);
    out.search = await searchCost(big.url, CFG.rows);
    const api = new Api(dialect, big.url, 'paging', out);
    try {
      for (const [label, query] of [
        ['REST GET /users?limit=50, page 1', 'limit=50'],
        [`REST GET /users?limit=50&cursor=${CFG.deepCursor}`, `limit=50&cursor=${CFG.deepCursor}`],
        [`REST GET /users?limit=50&role=2&cursor=${CFG.deepCursor}`, `limit=50&role=2&cursor=${CFG.deepCursor}`],
      ]) {
        out.runs[label] = await api.scenario(async ({ url, auth, server }) => {
          const pageUrl = `${url}${restPath('listUsers')}?${query}`;
          const expectBody = await preflight(pageUrl, auth, (/** @type {any} */ body) => body.items?.length === 50);
          return measure(`${dialect} ${label}`, { url: pageUrl, headers: auth, connections: C, expectBody }, server);
        });
      }
    } finally {
      await api.stop();
    }
  } finally {
    await big.drop();
  }
}
