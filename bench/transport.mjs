// What each transport costs: REST and tRPC GETs (single and batched) on the 200-user database, then the same
// against the hand-written route and the tRPC fast path against tRPC's own handler (versus.mjs).
import { measure, preflight, trpcInput } from './api.mjs';
import { CFG, elapsed, log, profArgs, SERVER_ENV } from './config.mjs';
import { startHandwritten, trpcFastPathGain, versusHandwritten } from './versus.mjs';

export async function measureTransports(api, out, dbUrl) {
  const { dialect } = out;
  const C = CFG.connections;
  const scenarios = [
    ['app /healthz (no auth, no DB)', '/healthz', false],
    ['REST GET /users/:id', '/api/v1/users/1', true],
    ['REST GET /users?limit=50', '/api/v1/users?limit=50', true],
    ['tRPC users.byId', `/trpc/users.byId?input=${trpcInput({ id: 1 })}`, true],
    ['tRPC users.list (50)', `/trpc/users.list?input=${trpcInput({ limit: 50 })}`, true],
    [
      'tRPC batch byId+list',
      `/trpc/users.byId,users.list?batch=1&input=${trpcInput({ 0: { id: 1 }, 1: { limit: 50 } })}`,
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

  // The hand-written route on the same database, in alternating rounds with ours (versus.mjs).
  const theirs = await startHandwritten({
    dbUrl,
    env: SERVER_ENV,
    nodeArgs: profArgs(`hand-written-${dialect}`),
  });
  try {
    const runOptions = {
      rounds: CFG.rounds,
      duration: CFG.versusDuration,
      warmup: CFG.warmup,
      connections: C,
      log: (line) => log(`${elapsed()} ${dialect} ${line}`),
    };
    out.versus = await api.scenario(({ server, auth }) =>
      versusHandwritten({ ours: server, theirs, headers: auth, ...runOptions }),
    );
    out.fastPath = await api.scenario(({ server, auth }) =>
      trpcFastPathGain({ ours: server, headers: auth, ...runOptions }),
    );
  } finally {
    await theirs.stop();
  }
}
