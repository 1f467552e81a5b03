import { spawnSync } from 'node:child_process';
import { operationNames } from '@api-users/contract';
import parsePrometheusTextFormat, { type Family } from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../test-support/spawn-server.js';
import { describeEachDatabase } from './support/databases.js';
import { call, restClient } from './support/http.js';
import { startIsolatedServer, uniqueLogin, useIsolatedServer } from './support/server.js';

const TOKEN = 'metrics-token-at-least-thirty-two-characters';
const PASSWORD = 'a fine long password';

async function scrape(url: string, token?: string) {
  const res = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const family = (families: Family[], name: string) => {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name} in the scrape`);
  return found;
};

/**
 * A histogram's `_count` series with their labels. The parser folds a labelled histogram's series into one, so
 * these lines are read here (label values never hold a quote or a comma in what the app exports).
 */
const histogramCounts = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}_count\\{([^}]*)\\} (\\S+)$`, 'gm'))].map((m) => ({
    labels: Object.fromEntries(
      (m[1] ?? '').split(',').map((pair) => pair.split('=').map((p) => p.replaceAll('"', ''))),
    ),
    count: Number(m[2]),
  }));

/** The value of a counter or gauge sample with these labels (0 when there is none). */
const sampleValue = (f: Family, labels: Record<string, string>) =>
  Number(f.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? 0);

const promtool = spawnSync('promtool', ['--version']).status === 0;
if (!promtool)
  console.warn("[api-users] promtool not installed: the scrape is not also checked by Prometheus's own parser");

describeEachDatabase('Prometheus metrics behind METRICS_TOKEN', (dialect) => {
  // No delivery loop: an event for a webhook endpoint stays pending, for the backlog gauge.
  const server = useIsolatedServer(dialect, {
    METRICS_TOKEN: TOKEN,
    RATE_LIMIT_PER_ADDRESS: '40',
    WEBHOOK_POLL_INTERVAL: '0',
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });

  it('refuses a scrape without the token, or with another, in the error shape', async () => {
    for (const token of [undefined, 'x'.repeat(TOKEN.length), `${TOKEN}x`]) {
      const res = await call(server.url, 'GET', '/metrics', token ? { token } : {});
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: 'AUTH_REQUIRED', msg: expect.stringContaining('METRICS_TOKEN') });
    }
  });

  it('counts operations, sign-in outcomes, rate-limit refusals and statements; no label holds client input', async () => {
    const api = restClient(server.url);
    const login = uniqueLogin('metrics');
    // The first account may make itself admin: it adds an endpoint, and the next registration's event waits for it.
    const { tokens } = await api.signUp(login, PASSWORD, 1);
    const hook = { url: 'http://127.0.0.1:9/hook', event_types: ['user.created'] };
    expect((await api.call('POST', '/webhooks', { token: tokens.access_token, json: hook })).status).toBe(201);
    await api.register({ user_name: 'Waiting Event', login: uniqueLogin('metrics.event'), password: PASSWORD });
    expect((await api.login(login, 'a wrong password for this')).status).toBe(401);
    await api.call('GET', '/users/1', { token: tokens.access_token });
    // Input that must not become a label: a path, a query, a login.
    await call(server.url, 'GET', `/api/v1/users/${encodeURIComponent('<zq-marker>')}?q=${login}`);
    await call(server.url, 'GET', `/no/such/${login}`);
    // Past the per-address limit: some refusals.
    const burst = await Promise.all(Array.from({ length: 45 }, () => api.call('POST', '/refresh', { json: {} })));
    expect(burst.some((r) => r.status === 429)).toBe(true);

    const scraped = await scrape(server.url, TOKEN);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(scraped.text);

    const operations = family(families, 'api_users_operations_total');
    expect(sampleValue(operations, { operation: 'register', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(operations, { operation: 'userById', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(operations, { operation: 'refresh', status: '429' })).toBeGreaterThanOrEqual(1);
    expect(family(families, 'api_users_operation_duration_seconds').type).toBe('HISTOGRAM');
    const latency = histogramCounts(scraped.text, 'api_users_operation_duration_seconds');
    const byId = latency.find((h) => h.labels.operation === 'userById' && h.labels.status === '200');
    expect(byId?.count).toBeGreaterThanOrEqual(1);

    const signIns = family(families, 'api_users_sign_ins_total');
    expect(sampleValue(signIns, { operation: 'login', outcome: 'signed_in' })).toBe(1);
    expect(sampleValue(signIns, { operation: 'login', outcome: 'BAD_CREDENTIALS' })).toBe(1);
    const refused = family(families, 'api_users_rate_limit_refusals_total');
    expect(sampleValue(refused, { operation: 'refresh' })).toBe(burst.filter((r) => r.status === 429).length);

    expect(family(families, 'api_users_db_statement_duration_seconds').type).toBe('HISTOGRAM');
    const statements = histogramCounts(scraped.text, 'api_users_db_statement_duration_seconds');
    const kinds = new Set(statements.map((h) => h.labels.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['select', 'insert']));
    const pool = families.find((f) => f.name === 'api_users_db_pool_connections');
    if (dialect === 'sqlite') expect(pool?.metrics ?? []).toEqual([]);
    else expect(sampleValue(pool as Family, { state: 'max' })).toBe(10);
    expect(family(families, 'api_users_password_hashes_queued').type).toBe('GAUGE');
    const webhooks = family(families, 'api_users_webhook_deliveries');
    expect(webhooks.metrics.map((m) => [m.labels?.state, m.value])).toEqual([
      ['pending', '1'],
      ['failed', '0'],
    ]);
    expect(family(families, 'nodejs_eventloop_lag_seconds').type).toBe('GAUGE');
    expect(family(families, 'process_resident_memory_bytes').type).toBe('GAUGE');

    // Prometheus's own parser and linter, where installed (CI installs Debian's prometheus package): it parses the
    // whole scrape and finds nothing to say about our families (prom-client's process metrics draw naming remarks).
    if (promtool) {
      const checked = spawnSync('promtool', ['check', 'metrics'], { input: scraped.text, encoding: 'utf8' });
      const said = `${checked.stdout}${checked.stderr}`;
      expect(said).not.toMatch(/error|pars/i);
      expect(said).not.toContain('api_users_');
    }

    // Every label value of our own families is from a fixed set: no login, path or query reached one.
    expect(scraped.text).not.toContain(login);
    expect(scraped.text).not.toContain('zq-marker');
    const known = new Set<string>(operationNames);
    const ours = families.filter((f) => f.name.startsWith('api_users_'));
    const labelSets = [
      ...ours.flatMap((f) => f.metrics.map((m) => m.labels ?? {})),
      ...ours.flatMap((f) => histogramCounts(scraped.text, f.name).map((h) => h.labels)),
    ];
    expect(labelSets.length).toBeGreaterThan(10);
    for (const labels of labelSets) {
      const { operation, status, outcome, kind } = labels;
      if (operation !== undefined) expect(known.has(operation)).toBe(true);
      if (status !== undefined) expect(status).toMatch(/^[1-5]\d\d$/);
      if (outcome !== undefined) expect(outcome).toMatch(/^[a-z_]+$|^[A-Z_]+$/);
      if (kind !== undefined) expect(kind).toMatch(/^(select|insert|update|delete|raw|[a-z]+)$/);
    }
  });

  it('reads an account in the guard’s own statement: one statement for GET /users/:id and GET /me', async () => {
    const api = restClient(server.url);
    const { tokens, user } = await api.signUp(uniqueLogin('metrics.one'), PASSWORD);
    const auth = { token: tokens.access_token };
    /** Statements run so far, whatever their kind (a scrape runs its own: the outbox backlog). */
    const statementsRun = async () =>
      histogramCounts((await scrape(server.url, TOKEN)).text, 'api_users_db_statement_duration_seconds').reduce(
        (sum, h) => sum + h.count,
        0,
      );
    const first = await statementsRun();
    const scrapeCost = (await statementsRun()) - first;
    const before = await statementsRun();
    expect((await api.call('GET', `/users/${user.id_user}`, auth)).body.id_user).toBe(user.id_user);
    expect((await api.call('GET', '/me', auth)).body.id_user).toBe(user.id_user);
    expect((await api.call('GET', '/users/2147483647', auth)).body.code).toBe('NOT_FOUND');
    const page = (await api.call('GET', '/users?limit=2', auth)).body;
    expect(page.items).toHaveLength(2);
    const next = (await api.call('GET', `/users?limit=2&role=2&cursor=${page.next_cursor}`, auth)).body;
    expect(next.items.every((u: { id_user: number; user_role: number }) => u.user_role === 2)).toBe(true);
    // A page still takes the guard's statement and its own (read along, it cost more: bench/README.md).
    expect((await statementsRun()) - before - scrapeCost).toBe(7);
  });
});

describe('Prometheus metrics on METRICS_PORT', () => {
  it('serves /metrics on its own port only, with the token when one is set', async () => {
    const port = await freePort();
    const server = await startIsolatedServer('sqlite', { METRICS_PORT: String(port), METRICS_TOKEN: TOKEN });
    try {
      const metricsUrl = `http://127.0.0.1:${port}`;
      expect((await scrape(metricsUrl)).status).toBe(401);
      const scraped = await scrape(metricsUrl, TOKEN);
      expect(scraped.status).toBe(200);
      expect(family(parsePrometheusTextFormat(scraped.text), 'api_users_password_hashes_queued').metrics).toHaveLength(
        1,
      );
      // Nothing of the API on that port, and with a port of their own… the token still opens the API port's route.
      expect((await call(metricsUrl, 'GET', '/api/v1/users')).status).toBe(404);
      expect((await call(metricsUrl, 'POST', '/metrics')).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('is off unless METRICS_TOKEN or METRICS_PORT is set', async () => {
    const server = await startIsolatedServer('sqlite');
    try {
      const res = await call(server.url, 'GET', '/metrics');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    } finally {
      await server.close();
    }
  });
});
