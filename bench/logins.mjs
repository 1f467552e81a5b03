// Logins (limited by argon2) on the 200-user database, and a GET by id while they run (the login storm).
import os from 'node:os';
import { assertAlive, measure, preflight } from './api.mjs';
import { CFG, elapsed, log, USER } from './config.mjs';
import { cannon, postJson, restPath } from './lib.mjs';
import { argon2Cost } from './micro.mjs';

export async function measureLogins(api, out) {
  const { dialect } = out;
  const C = CFG.connections;
  // The argon2 cost again, right before the logins, so the limit reflects the machine's load of the moment.
  out.argon = await argon2Cost(7);
  out.limit = os.availableParallelism() / (out.argon.hashMs / 1000);
  log(
    `${elapsed()} ${dialect} argon2id: hash ${out.argon.hashMs.toFixed(1)} ms -> limit ${out.limit.toFixed(1)} logins/s; in-process ceiling ${out.argon.ceiling.toFixed(1)} verifies/s`,
  );

  // Logins: as many as the argon2 limit allows.
  const credentials = { login: USER.login, password: USER.password };
  const loginReq = (url) => ({
    url: `${url}${restPath('login')}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  out.runs['REST POST /login'] = await api.scenario(async ({ url, server }) => {
    for (let i = 0; i < 4; i++) await postJson(`${url}${restPath('login')}`, credentials);
    return measure(`${dialect} login`, { ...loginReq(url), connections: CFG.loginConnections }, server);
  });

  // Login storm: GET by id (as at rest) and logins at once, from two autocannon instances.
  await api.scenario(async ({ url, auth, server }) => {
    const byIdUrl = `${url}${restPath('userById', { id: 1 })}`;
    const expectBody = await preflight(byIdUrl, auth);
    const [get, logins] = await Promise.all([
      cannon({ url: byIdUrl, headers: auth, connections: C, duration: CFG.duration, expectBody }),
      cannon({ ...loginReq(url), connections: CFG.loginConnections, duration: CFG.duration }),
    ]);
    assertAlive(server);
    out.runs['REST GET /users/:id during login storm'] = get;
    out.runs['REST POST /login (storm)'] = logins;
    log(
      `${elapsed()} ${dialect} storm: GET p99 ${get.p99} ms (${get.rps.toFixed(0)} req/s), logins ${logins.rps.toFixed(1)}/s`,
    );
  });
}
