#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`, or `BENCH_CPU_PROF=1 node bench/run.mjs`):
// the top functions by self time, and the top packages (node_modules/<pkg>, node: internals, app code).
// With --inclusive <regex>: also the total (inclusive) time of every function whose name or file matches.
// With --per-request <requests served>: the busy time by kind of work (bench/README.md's before/after table).
// Usage: node bench/profile-top.mjs <file.cpuprofile> [count] [--inclusive <regex>] [--per-request <n>]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const inclusiveAt = args.indexOf('--inclusive');
const inclusivePattern = inclusiveAt >= 0 ? new RegExp(args.splice(inclusiveAt, 2)[1]) : null;
const perRequestAt = args.indexOf('--per-request');
const requests = perRequestAt >= 0 ? Number(args.splice(perRequestAt, 2)[1]) : null;
const [file, countArg] = args;
if (!file) {
  console.error(
    'usage: node bench/profile-top.mjs <file.cpuprofile> [count] [--inclusive <regex>] [--per-request <n>]',
  );
  process.exit(2);
}
const count = Number(countArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node: each sample lands on one node; timeDeltas[i] is the time before sample i. Idle samples
// are left out, so the shares are of the time the process was busy whatever else the run did.
const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const self = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  if (idle.has(profile.samples[i])) continue;
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  total += dt;
}

const packageOf = (url) => {
  if (!url) return '(native/VM)';
  if (url.startsWith('node:')) return 'node: internals';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/);
  if (m) return m[1];
  const app = url.match(/\/(apps|packages)\/([^/]+)\//);
  if (app) return `${app[1]}/${app[2]}`;
  return url.replace(/^file:\/\//, '');
};

const keyOf = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url ? url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(apps|packages)\//, '$1/') : '';
  return `${functionName || '(anonymous)'}  ${short}${url ? `:${lineNumber + 1}` : ''}`;
};

const byFunction = new Map();
const byPackage = new Map();
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  if (!t) continue;
  const key = keyOf(node);
  byFunction.set(key, (byFunction.get(key) ?? 0) + t);
  const pkg = packageOf(node.callFrame.url);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
}

const show = (title, map, n) => {
  console.log(`\n${title} (of ${(total / 1e6).toFixed(2)} s busy)`);
  for (const [k, t] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
};
show('Top functions by self time', byFunction, count);
show('By package', byPackage, 15);

if (inclusivePattern) {
  // Inclusive time: a sample counts once for every distinct matching function on its stack.
  const parent = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, t] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf(byId.get(cur));
      if (!seen.has(key) && inclusivePattern.test(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + t);
      }
    }
  }
  show(`Inclusive time of functions matching ${inclusivePattern}`, inclusive, count);
}

/** The kind of work a function's self time is. */
function kindOf({ url, functionName: name }) {
  if (/kysely/.test(url)) {
    if (/sqlite-driver/.test(url) && name === 'executeQuery') return 'running statements (better-sqlite3, native)';
    if (/query-executor|driver|connection/.test(url)) return "kysely's executor and connection handling";
    return 'kysely building and compiling queries';
  }
  if (/better-sqlite3/.test(url)) return 'running statements (better-sqlite3, native)';
  if (/bench\/(tools\/)?handwritten-server/.test(url)) return 'the hand-written route (its statement calls included)';
  if (/mysql2/.test(url)) return "mysql2's protocol";
  if (/zod/.test(url)) return 'zod (input, output, claims)';
  if (/fast-jwt|crypto\/hash/.test(url)) return 'fast-jwt (token hash for its cache, checks)';
  if (/^(writev|writevGeneric|writeUtf8String)$/.test(name)) return 'socket writes';
  if (/apps\/server|packages\/(db|contract)/.test(url)) return 'our code (adapters, execute, guard, handlers, db)';
  if (/fastify|find-my-way|avvio|pino/.test(url)) return 'fastify, its router and logger';
  if (name === '(garbage collector)' || name === '(program)') return 'GC and VM';
  return 'Node internals and the rest (HTTP parser, streams, promises)';
}

if (requests) {
  const byKind = new Map();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    if (t) byKind.set(kindOf(node.callFrame), (byKind.get(kindOf(node.callFrame)) ?? 0) + t);
  }
  console.log(
    `\nBy kind of work, per request (${requests} requests served; ${(total / requests).toFixed(0)} µs busy each)`,
  );
  for (const [k, t] of [...byKind].sort((a, b) => b[1] - a[1])) {
    console.log(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${(t / requests).toFixed(1).padStart(7)} µs  ${k}`);
  }
}
