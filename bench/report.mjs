// bench/results.md from what a run measured: the tables, the costs, the PASS/FAIL targets and the notes.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CFG, cores, elapsed, quick, started } from './config.mjs';
import { BENCH_DIR } from './lib.mjs';

/** GET /users/:id of the original Flask app under gunicorn on MySQL, as issue 25 recorded it (req/s). */
const FLASK_RECORDED_RPS = 900;

/** The soak's report, if one was written: its header line and its lines (bench/soak.mjs). */
function readSoak() {
  const file = join(BENCH_DIR, 'soak-results.md');
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const header = /^Date: (.*)$/m.exec(text)?.[1] ?? 'undated';
  const lines = [...text.matchAll(/^- (.*)$/gm)].map((m) => m[1] ?? '');
  return { header, lines };
}

const fmt = (n, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const pct = (x) => `${(x * 100).toFixed(0)} %`;

export function buildReport(ctx) {
  const { baseline, dialects, argon, jwt, versions } = ctx;
  const baseRps = baseline.rps;
  const baseP99 = baseline.p99;
  const baseUs = 1e6 / baseRps;
  const lines = [];
  const P = (s = '') => lines.push(s);

  P('# Api users — benchmark results');
  P();
  P(
    `Date: ${new Date(started).toISOString()} · run took ${elapsed()}${quick ? ' · **quick mode** (short runs, fewer rows)' : ''}`,
  );
  P();
  P(
    `Machine: ${cores} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}; load average at start ${ctx.loadStart.map((x) => x.toFixed(2)).join(' ')}, at end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  P();
  P(
    `Versions: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  P();
  P(
    `Settings: autocannon ${CFG.connections} connections, ${CFG.duration} s per run after ${CFG.warmup} s warm-up; logins with ${CFG.loginConnections} connections; server NODE_ENV=production, LOG_LEVEL=warn, rate limits off, default DB_POOL_SIZE; argon2id m=19456 t=2 p=1.`,
  );
  P();
  P(
    `Baseline (bare Fastify, one constant JSON route, own process): **${fmt(baseRps)} req/s**, p50 ${baseline.p50} ms, p99 ${baseP99} ms — mean of ${ctx.baselines.length} runs spread over the invocation (${ctx.baselines.map((b) => fmt(b.rps)).join(', ')} req/s; the spread shows how noisy the machine was). Every ratio below is against it.`,
  );
  P();

  P('## Throughput and latency');
  P();
  P('| database | scenario | req/s | × baseline req/s | p50 ms | p99 ms | p99 × baseline | errors | non-2xx | 429 |');
  P('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  P(
    `| — | baseline (bare Fastify) | ${fmt(baseRps)} | 1.00 | ${baseline.p50} | ${baseP99} | 1.0 | ${baseline.errors + baseline.mismatches} | ${baseline.non2xx} | ${baseline.status429} |`,
  );
  for (const d of dialects) {
    if (d.skipped) {
      P(`| ${d.dialect} | skipped: ${d.skipped} | | | | | | | | |`);
      continue;
    }
    if (d.failed) P(`| ${d.dialect} | **run failed** (see Targets) | | | | | | | | |`);
    for (const [label, r] of Object.entries(d.runs)) {
      const isLogin = label.includes('login');
      P(
        `| ${d.dialect} | ${label} | ${fmt(r.rps, isLogin ? 1 : 0)} | ${(r.rps / baseRps).toFixed(isLogin ? 4 : 2)} | ${r.p50} | ${r.p99} | ${(r.p99 / baseP99).toFixed(1)} | ${r.errors + r.mismatches} | ${r.non2xx} | ${r.status429} |`,
      );
    }
  }
  P();
  P(
    'errors = socket errors + timeouts + answers whose body differed from the expected one (GETs are checked byte for byte against a preflight answer).',
  );
  P();

  P('## Costs');
  P();
  P(
    `"× baseline request" divides the cost by the time one baseline request takes at saturation (1 / ${fmt(baseRps)} req/s = ${fmt(baseUs, 1)} µs).`,
  );
  P();
  P('| figure | value | × baseline request |');
  P('|---|--:|--:|');
  const argonRows = (where, a) => {
    const limit = cores / (a.hashMs / 1000);
    P(`| argon2id hash, one at a time (${where}) | ${fmt(a.hashMs, 1)} ms | ${fmt((a.hashMs * 1000) / baseUs, 0)} |`);
    P(
      `| argon2id verify, one at a time (${where}) | ${fmt(a.verifyMs, 1)} ms | ${fmt((a.verifyMs * 1000) / baseUs, 0)} |`,
    );
    P(
      `| login limit = ${cores} cores ÷ one hash (${where}) | ${fmt(limit, 1)} logins/s | ${(limit / baseRps).toFixed(4)} × baseline req/s |`,
    );
    for (const [inFlight, perSecond] of Object.entries(a.parallel)) {
      P(
        `| argon2id verifies/s in-process, ${inFlight} in flight (${where}) | ${fmt(perSecond, 1)} /s | ${(perSecond / limit).toFixed(2)} × the limit |`,
      );
    }
  };
  argonRows('at start', argon);
  for (const d of dialects) if (d.argon) argonRows(`before the ${d.dialect} logins`, d.argon);
  for (const [algorithm, { firstUs, againUs }] of Object.entries(jwt)) {
    P(
      `| server TokenService.verify ${algorithm}, first sight of a token | ${fmt(firstUs, 2)} µs | ${fmt(firstUs / baseUs, 3)} |`,
    );
    P(
      `| server TokenService.verify ${algorithm}, the same token again (fast-jwt's cache) | ${fmt(againUs, 2)} µs | ${fmt(againUs / baseUs, 3)} |`,
    );
  }
  for (const d of dialects) {
    if (d.skipped || d.failed) continue;
    const rv = d.revocation;
    P(
      `| ${d.dialect}: revocation check (guard's SELECT), one at a time | ${fmt(rv.sequentialUs, 0)} µs | ${fmt(rv.sequentialUs / baseUs, 2)} |`,
    );
    P(
      `| ${d.dialect}: revocation check, ${rv.inFlight} in flight, amortised | ${fmt(rv.concurrentUs, 0)} µs | ${fmt(rv.concurrentUs / baseUs, 2)} |`,
    );
    const byId = d.runs['REST GET /users/:id'];
    if (byId) {
      P(
        `| ${d.dialect}: one authenticated GET by id at saturation (1 / req/s) | ${fmt(1e6 / byId.rps, 0)} µs | ${fmt(1e6 / byId.rps / baseUs, 2)} |`,
      );
    }
    if (d.rssMiB) P(`| ${d.dialect}: server RSS after the transport, login and storm runs | ${fmt(d.rssMiB)} MiB | |`);
    P(`| ${d.dialect}: seeding ${CFG.rows.toLocaleString('en-US')} users | ${fmt(d.seedSeconds, 1)} s | |`);
    P(
      `| ${d.dialect}: page of 50 at depth ${CFG.deepCursor}, keyset (kysely direct) | ${fmt(d.paging.keysetMs, 2)} ms | ${fmt((d.paging.keysetMs * 1000) / baseUs, 1)} |`,
    );
    P(
      `| ${d.dialect}: same page by OFFSET (for comparison; not what the server does) | ${fmt(d.paging.offsetMs, 1)} ms | ${fmt((d.paging.offsetMs * 1000) / baseUs, 0)} |`,
    );
    for (const [label, ms] of d.filters) {
      P(
        `| ${d.dialect}: page of 50, ${label} (the server's listUsers) | ${fmt(ms, 2)} ms | ${fmt((ms * 1000) / baseUs, 1)} |`,
      );
    }
  }
  P();

  P(`## Search (\`q\`) at ${CFG.rows.toLocaleString('en-US')} accounts`);
  P();
  P("A page of 50 through the server's listUsers, each search timed 40 times after one unrecorded call.");
  P();
  P('| database | search | p50 ms | p99 ms |');
  P('|---|---|--:|--:|');
  for (const d of dialects) {
    if (d.skipped || d.failed || !d.search) continue;
    for (const c of d.search.cases) P(`| ${d.dialect} | ${c.label} | ${fmt(c.p50, 1)} | ${fmt(c.p99, 1)} |`);
    P(`| ${d.dialect} | **all of them together** | ${fmt(d.search.all.p50, 1)} | ${fmt(d.search.all.p99, 1)} |`);
  }
  P();

  P('## Ours against the hand-written route');
  P();
  P(
    `The same database (200 accounts), ${CFG.rounds} alternating rounds of ${CFG.versusDuration} s per side after ${CFG.warmup} s of warm-up, ${CFG.connections} connections; req/s are the medians of the rounds, CPU the server process's user + system time per request (median of the rounds). The hand-written route (bench/tools/handwritten-server.mjs) is the issue's reference: the guard's statement, then the read. Since issue 25 the server reads one account in the guard's statement; the pair marked "vs one statement" holds it against the hand-written route doing that too (informative).`,
  );
  P();
  P('| database | pair | ours req/s | hand-written req/s | ratio | rounds | CPU µs/request ours / hand-written |');
  P('|---|---|--:|--:|--:|---|--:|');
  for (const d of dialects) {
    for (const v of d.versus ?? []) {
      P(
        `| ${d.dialect} | ${v.label} | ${fmt(v.ours)} | ${fmt(v.theirs)} | ${fmt(v.ratio, 2)} | ${v.roundRatios.map((x) => fmt(x, 2)).join(' ')} | ${fmt(v.oursCpu)} / ${fmt(v.theirsCpu)} |`,
      );
    }
    if (d.fastPath) {
      P(
        `| ${d.dialect} | tRPC users.byId: own path vs tRPC's handler | ${fmt(d.fastPath.fast)} | ${fmt(d.fastPath.trpc)} (tRPC's handler) | ${fmt(d.fastPath.gain, 2)} | ${d.fastPath.roundRatios.map((x) => fmt(x, 2)).join(' ')} | |`,
      );
    }
  }
  P();

  const soak = readSoak();
  if (soak) {
    P('## Memory under a 10-minute soak');
    P();
    P(
      `From bench/soak-results.md (\`pnpm soak\`, run apart: ${soak.header}). Two instances per database under a mixed load of whole user stories; RSS read idle before, every 1/20 of the run, and idle after.`,
    );
    P();
    for (const line of soak.lines) P(`- ${line}`);
    P();
  }

  P('## Targets');
  P();
  P('| target | measured | threshold | result |');
  P('|---|--:|--:|---|');
  const targets = [];
  const T = (name, measured, threshold, pass) => {
    targets.push({ name, pass });
    const result = { skip: 'SKIP', info: 'information' }[pass] ?? (pass ? 'PASS' : '**FAIL**');
    P(`| ${name} | ${measured} | ${threshold} | ${result} |`);
  };
  for (const d of dialects) {
    if (d.skipped) continue;
    if (d.failed) {
      T(`${d.dialect}: the run completed`, `failed: ${d.failed.split('\n')[0].slice(0, 200)}`, 'completes', false);
      continue;
    }
    const r = d.runs;
    const byId = r['REST GET /users/:id'];
    const list = r['REST GET /users?limit=50'];
    T(`${d.dialect}: authenticated GET by id ÷ bare Fastify`, pct(byId.rps / baseRps), '', 'info');
    const tId = r['tRPC users.byId'].rps / byId.rps;
    T(`${d.dialect}: tRPC users.byId vs REST req/s`, pct(tId), '≥ 80 %', tId >= 0.8);
    const tList = r['tRPC users.list (50)'].rps / list.rps;
    T(`${d.dialect}: tRPC users.list vs REST req/s`, pct(tList), '≥ 80 %', tList >= 0.8);
    // A batch does one byId and one list: REST's rate for that pair is 1 / (1/byId + 1/list).
    const restPair = 1 / (1 / byId.rps + 1 / list.rps);
    const tBatch = r['tRPC batch byId+list'].rps / restPair;
    T(`${d.dialect}: tRPC batch (byId+list) vs the REST pair`, pct(tBatch), '≥ 80 %', tBatch >= 0.8);
    for (const v of d.versus ?? []) {
      T(
        `${d.dialect}: ${v.label}, ours ÷ hand-written req/s`,
        fmt(v.ratio, 2),
        v.informative ? '' : `≥ ${fmt(v.threshold, 2)}`,
        v.informative ? 'info' : v.pass,
      );
    }
    if (d.fastPath) {
      T(
        `${d.dialect}: tRPC fast path ÷ tRPC's own handler`,
        `${fmt(d.fastPath.gain, 2)}×`,
        '≥ 1.5×',
        d.fastPath.gain >= 1.5,
      );
    }
    if (d.dialect === 'mysql') {
      const times = byId.rps / FLASK_RECORDED_RPS;
      T(
        `mysql: authenticated GET by id ÷ the original Flask app (recorded ${FLASK_RECORDED_RPS} req/s; see below)`,
        `${fmt(times, 1)}× (${fmt(byId.rps)} req/s)`,
        '≥ 10×',
        times >= 10,
      );
    }
    const search = d.search.all;
    T(
      `${d.dialect}: \`q\` search at ${CFG.rows.toLocaleString('en-US')} accounts, p50`,
      `${fmt(search.p50, 1)} ms`,
      '≤ 20 ms',
      search.p50 <= 20,
    );
    T(
      `${d.dialect}: \`q\` search at ${CFG.rows.toLocaleString('en-US')} accounts, p99`,
      `${fmt(search.p99, 1)} ms`,
      '≤ 100 ms',
      search.p99 <= 100,
    );
    const limit = d.limit;
    const login = r['REST POST /login'].rps / limit;
    T(
      `${d.dialect}: logins/s vs argon2 limit (${fmt(limit, 1)}/s)`,
      `${pct(login)} (${fmt(r['REST POST /login'].rps, 1)}/s)`,
      '≥ 85 %',
      login >= 0.85,
    );
    const ofCeiling = r['REST POST /login'].rps / d.argon.ceiling;
    T(
      `${d.dialect}: logins/s vs argon2id's in-process rate with several in flight (${fmt(d.argon.ceiling, 1)}/s)`,
      pct(ofCeiling),
      '≥ 95 %',
      ofCeiling >= 0.95,
    );
    const storm = r['REST GET /users/:id during login storm'].p99 / byId.p99;
    T(
      `${d.dialect}: GET p99 during login storm vs at rest`,
      `${storm.toFixed(1)}× (${r['REST GET /users/:id during login storm'].p99} vs ${byId.p99} ms)`,
      '≤ 3×',
      storm <= 3,
    );
    const page1 = r['REST GET /users?limit=50, page 1'];
    const deep = r[`REST GET /users?limit=50&cursor=${CFG.deepCursor}`];
    const deepRatio = page1.rps / deep.rps;
    T(
      `${d.dialect}: deep page (cursor=${CFG.deepCursor}) cost vs page 1, ${CFG.rows.toLocaleString('en-US')} rows`,
      `${deepRatio.toFixed(2)}× (${fmt(deep.rps)} vs ${fmt(page1.rps)} req/s)`,
      '≤ 1.5×',
      deepRatio <= 1.5,
    );
    const roleDeep = r[`REST GET /users?limit=50&role=2&cursor=${CFG.deepCursor}`];
    const roleRatio = page1.rps / roleDeep.rps;
    T(
      `${d.dialect}: role-filtered deep page (role=2, cursor=${CFG.deepCursor}) vs page 1`,
      `${roleRatio.toFixed(2)}× (${fmt(roleDeep.rps)} vs ${fmt(page1.rps)} req/s)`,
      '≤ 1.5×',
      roleRatio <= 1.5,
    );
  }
  for (const line of soak?.lines.filter((l) => /^soak on \w+: (PASS|FAIL)$/.test(l)) ?? []) {
    const [, dialect, verdict] = /^soak on (\w+): (PASS|FAIL)$/.exec(line) ?? [];
    T(
      `${dialect}: soak (RSS idle after ÷ before ≤ 1.05, nothing lost, no 5xx)`,
      verdict ?? '',
      'PASS',
      verdict === 'PASS',
    );
  }
  const all = [baseline, ...ctx.baselines, ...dialects.flatMap((d) => Object.values(d.runs ?? {}))];
  const bad = all.reduce((n, r) => n + r.errors + r.mismatches + r.non2xx, 0);
  T('no errors, mismatches or non-2xx answers in any run', String(bad), '0', bad === 0);
  P();

  const notes = [];
  const limited = all.reduce((n, r) => n + r.status429, 0);
  if (limited > 0) {
    notes.push(
      `**${limited} answers were 429 (rate limited)**: the figures above are skewed. The bench starts the server with every RATE_LIMIT_PER_ADDRESS and RATE_LIMIT_FAILURES_* setting at 0; check the server's current rate-limit settings.`,
    );
  }
  for (const d of dialects) {
    notes.push(...(d.notes ?? []));
    if (d.warnLines?.length) {
      notes.push(
        `${d.dialect}: the server logged ${d.warnLines.length} line(s) at warn or above (all in bench/server-warnings.log), first: \`${d.warnLines[0].slice(0, 300)}\``,
      );
    }
  }
  if (notes.length) {
    P('## Notes');
    P();
    for (const n of notes) P(`- ${n}`);
    P();
  }
  P(
    `The original Flask app is not run here: its source is not in this repository (only its schema and rows, ../shared/flask-legacy), so the figure of ${FLASK_RECORDED_RPS} req/s is the one issue 25 recorded for it (GET /users/:id under gunicorn on MySQL, 2 cores, 50 connections; it also failed about 1,400 requests in 10 s).`,
  );
  P();
  P('How to read and rerun this: bench/README.md.');
  return { text: lines.join('\n'), targets };
}
