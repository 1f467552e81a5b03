// What each transport costs: REST and tRPC GETs (single and batched) on the 200-user database. The same against
// the hand-written route, and the tRPC fast path against tRPC's own handler, are tools/versus.mjs's own run.
import { measure, preflight, trpcInput } from './api.mjs';
import { CFG } from './config.mjs';
import { restPath, trpcPath } from './lib.mjs';

export async function measureTransports(api, out) {
  const { dialect } = out;
  const C = CFG.connections;
  /** @type {[string, string, boolean, ((body: any) => boolean)?][]} */
  const scenarios = [
    ['app /healthz (no auth, no DB)', '/healthz', false],
    ['REST GET /users/:id', restPath('userById', { id: 1 }), true],
    ['REST GET /users?limit=50', `${restPath('listUsers')}?limit=50`, true],
    ['tRPC users.byId', `${trpcPath('userById')}?input=${trpcInput({ id: 1 })}`, true],
    ['tRPC users.list (50)', `${trpcPath('listUsers')}?input=${trpcInput({ limit: 50 })}`, true],
    [
      'tRPC batch byId+list',
      `${trpcPath('userById', 'listUsers')}?batch=1&input=${trpcInput({ 0: { id: 1 }, 1: { limit: 50 } })}`,
      true,
      (body) => Array.isArray(body) && body.every((r) => r.result?.data !== undefined),
    ],
  ];
  for (const [label, path, authed, check] of scenarios) {
    out.runs[label] = await api.scenario(async ({ url, auth, server }) => {
      const headers = authed ? auth : {};
      const expectBody = await preflight(url + path, headers, check);
      return measure(`${dialect} ${label}`, { url: url + path, headers, connections: C, expectBody }, server);
    });
  }
}
