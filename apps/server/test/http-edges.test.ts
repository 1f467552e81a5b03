import { connect as connectTcp, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { REST_PREFIX, TRPC_MAX_BATCH, TRPC_PREFIX } from '@api-users/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Reply, restClient } from './support/http.js';
import { startIsolatedServer, type TestServer, uniqueLogin, useIsolatedServer } from './support/server.js';

/** Log lines at pino's error level or above: a client's mistake must never produce one. */
const errorLines = (server: TestServer) => server.logs.filter((line) => JSON.parse(line).level >= 50);

/** An answer in the error shape, with the headers every answer carries. */
function expectErrorShape(reply: Reply, status: number, code: string): void {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual({ code, msg: expect.any(String) });
  expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
}

/** The same over tRPC: the error body is the envelope's `data`. */
function expectTrpcError(reply: Reply, status: number, code: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.body.error.data).toMatchObject({ code, httpStatus: status });
}

describe('client mistakes at the HTTP level', () => {
  const server = useIsolatedServer('sqlite');

  it('answers path traversal, NUL bytes and empty segments under the static pages with a 4xx, logging no error', async () => {
    const paths = [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/%2e%2e/package.json',
      '/dashboard/%00',
      '/dashboard//',
      '/dashboard//etc/passwd',
      '/docs/static/%00',
      '/docs/static//',
      '/docs/static/../../package.json',
    ];
    for (const path of paths) {
      const reply = await call(server.url, 'GET', path, { verbatim: true });
      expect(reply.status, path).toBe(404);
      expectErrorShape(reply, 404, 'NOT_FOUND');
    }
    expect(errorLines(server)).toEqual([]);
  });

  it('answers a method a known path does not take with 405 and Allow, a preflight with CORS off too', async () => {
    const put = await call(server.url, 'PUT', `${REST_PREFIX}/users/2`, { json: { user_name: 'x' } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
    expect(put.body).toEqual({
      code: 'METHOD_NOT_ALLOWED',
      msg: '/api/v1/users/2 takes DELETE, GET, HEAD, PATCH, not PUT',
    });
    const preflight = await call(server.url, 'OPTIONS', `${REST_PREFIX}/login`, {
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get('allow')).toBe('POST');
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.body.msg).toContain('CORS_ORIGINS');
    // A path of no operation is still a 404.
    expect((await call(server.url, 'PUT', `${REST_PREFIX}/nothing/here`)).status).toBe(404);
    expect(errorLines(server)).toEqual([]);
  });

  it('says that a body is not JSON, and where the parser stopped, or that it is empty', async () => {
    const send = (raw: string) =>
      call(server.url, 'POST', `${REST_PREFIX}/login`, { raw, headers: { 'content-type': 'application/json' } });
    expect((await send('{"login": x}')).body).toEqual({
      code: 'VALIDATION_FAILED',
      msg: 'The request body is not valid JSON: the parser stopped at line 1, column 11',
    });
    const stop = (line: number, column: number) =>
      `The request body is not valid JSON: the parser stopped at line ${line}, column ${column}`;
    expect((await send('{\n  "login": "ana",\n  "password": "x",\n}')).body.msg).toBe(stop(4, 1));
    expect((await send('{"login":')).body.msg).toBe(stop(1, 10));
    // JSON, refused for what it holds: the plain sentence.
    expect((await send('{"__proto__": {"admin": true}}')).body.msg).toBe('The request body is not valid JSON');
    const empty = await send('');
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({
      code: 'VALIDATION_FAILED',
      msg: 'The request body is empty although its Content-Type is JSON',
    });
    expect(errorLines(server)).toEqual([]);
  });

  it('refuses a compressed body, or one not in UTF-8, with 415 saying what to send, over REST and tRPC', async () => {
    const body = JSON.stringify({ login: 'someone', password: 'wrong but well-formed' });
    const send = (path: string, headers: Record<string, string>, raw = body) =>
      call(server.url, 'POST', path, { raw, headers: { 'content-type': 'application/json', ...headers } });
    const rest = `${REST_PREFIX}/login`;
    const trpc = `${TRPC_PREFIX}/auth.login`;
    const gzipped = gzipSync(body).toString('latin1');
    for (const [headers, msg] of [
      [{ 'content-encoding': 'gzip' }, 'Send the body uncompressed: no Content-Encoding (or identity)'],
      [{ 'content-encoding': 'br' }, 'Send the body uncompressed: no Content-Encoding (or identity)'],
      [
        { 'content-type': 'application/json; charset=iso-8859-1' },
        'Send the body in UTF-8: charset=utf-8, or no charset',
      ],
      [{ 'content-type': 'application/json;charset="utf-16"' }, 'Send the body in UTF-8: charset=utf-8, or no charset'],
    ] as const) {
      const raw = headers['content-encoding'] === 'gzip' ? gzipped : body;
      const answer = await send(rest, headers, raw);
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 415,
        body: { code: 'UNSUPPORTED_MEDIA_TYPE', msg },
      });
      const overTrpc = await send(trpc, headers, raw);
      expectTrpcError(overTrpc, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(overTrpc.body.error.data.msg).toBe(msg);
    }
    // UTF-8 said outright, in any case, and identity, are what they always were: a wrong password here.
    for (const headers of [{ 'content-type': 'application/json; charset=UTF-8' }, { 'content-encoding': 'identity' }]) {
      expect((await send(rest, headers)).body.code).toBe('BAD_CREDENTIALS');
    }
    expect(errorLines(server)).toEqual([]);
  });

  it('answers tRPC PUT, PATCH, DELETE, OPTIONS and TRACE with 405 METHOD_NOT_ALLOWED, logging no error', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE']) {
      for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/json' }]) {
        const withBody = method !== 'TRACE' && 'content-type' in headers;
        const reply = await call(server.url, method, `${TRPC_PREFIX}/auth.login`, {
          headers,
          verbatim: true,
          ...(withBody ? { raw: '{"login":"x"}' } : {}),
        });
        expectTrpcError(reply, 405, 'METHOD_NOT_ALLOWED');
        expect(reply.headers.get('x-request-id')).toBeTruthy();
      }
    }
    expect(errorLines(server)).toEqual([]);
  });

  it('answers in tRPC’s error shape, as JSON, what tRPC refuses before any procedure runs', async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: {}, 1: { login: 'someone', password: 'whatever1' } }));
    // Queries and mutations in one batch: some of its calls came by the wrong method.
    const mixedGet = await call(server.url, 'GET', `${TRPC_PREFIX}/auth.setup,auth.login?batch=1&input=${input}`);
    expectTrpcError(mixedGet, 405, 'METHOD_NOT_ALLOWED');
    const mixedPost = await call(server.url, 'POST', `${TRPC_PREFIX}/auth.setup,auth.login?batch=1`, {
      json: { 0: {}, 1: { login: 'someone', password: 'whatever1' } },
    });
    expectTrpcError(mixedPost, 405, 'METHOD_NOT_ALLOWED');
    // A streamed answer is for batches only: said in words, as JSON.
    const unbatched = await call(server.url, 'GET', `${TRPC_PREFIX}/auth.setup`, {
      headers: { 'trpc-accept': 'application/jsonl' },
    });
    expectTrpcError(unbatched, 400, 'VALIDATION_FAILED');
    expect(unbatched.body.error.data.msg).toBe('Streaming requests must be batched (you can do a batch of 1)');
    // A batch of one streamed is answered as JSONL, one JSON value a line, under tRPC's content type.
    const streamed = await fetch(`${server.url}${TRPC_PREFIX}/auth.setup?batch=1&input=%7B%7D`, {
      headers: { 'trpc-accept': 'application/jsonl' },
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toMatch(/^application\/json/);
    const lines = (await streamed.text()).trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(errorLines(server)).toEqual([]);
  });

  it('answers tRPC HEAD with 405 (no body), logging no error', async () => {
    for (const path of ['auth.setup', 'me.get', 'auth.login', 'auth.setup,me.get?batch=1', 'no.such']) {
      const reply = await call(server.url, 'HEAD', `${TRPC_PREFIX}/${path}`, { verbatim: true });
      expect([path, reply.status, reply.body]).toEqual([path, 405, undefined]);
      expect(reply.headers.get('x-request-id')).toBeTruthy();
    }
    expect(errorLines(server)).toEqual([]);
  });

  it('logs no error for the tRPC mistakes tRPC itself refuses (no such procedure, a query by POST, no JSON)', async () => {
    const mistakes: [string, string, Parameters<typeof call>[3], number, string][] = [
      ['POST', 'no.such', { json: {} }, 404, 'NOT_FOUND'],
      ['GET', 'no.such', {}, 404, 'NOT_FOUND'],
      ['POST', 'me.get', { json: {} }, 405, 'METHOD_NOT_ALLOWED'],
      [
        'POST',
        'auth.login',
        { raw: '{"login":"x"}', headers: { 'content-type': 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ];
    for (const [method, path, options, status, code] of mistakes) {
      expectTrpcError(await call(server.url, method, `${TRPC_PREFIX}/${path}`, options), status, code);
    }
    expect(errorLines(server)).toEqual([]);
  });

  it('answers a path parameter past the longest batch with 414 in the error shape, not echoing the URL', async () => {
    const long = '1'.repeat(5000);
    const reply = await call(server.url, 'GET', `${REST_PREFIX}/users/${long}`);
    expectErrorShape(reply, 414, 'URI_TOO_LONG');
    expect(JSON.stringify(reply.body)).not.toContain(long.slice(0, 100));
    expect(errorLines(server)).toEqual([]);
  });

  it(`serves a tRPC GET batch of ${TRPC_MAX_BATCH} calls, and refuses a larger one with 400`, async () => {
    const { user, tokens } = await restClient(server.url).signUp(uniqueLogin('batch'));
    const batch = (n: number) => {
      const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { id: user.id_user }]));
      const paths = Array(n).fill('users.byId').join(',');
      return call(
        server.url,
        'GET',
        `${TRPC_PREFIX}/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`,
        {
          token: tokens.access_token,
        },
      );
    };
    const full = await batch(TRPC_MAX_BATCH);
    expect(full.status).toBe(200);
    expect(full.body).toHaveLength(TRPC_MAX_BATCH);
    for (const answer of full.body) expect(answer.result.data).toMatchObject({ id_user: user.id_user });
    const over = await batch(TRPC_MAX_BATCH + 1);
    expect(over.status).toBe(400);
    const why = {
      code: 'VALIDATION_FAILED',
      msg: `A tRPC batch holds at most ${TRPC_MAX_BATCH} calls`,
      httpStatus: 400,
    };
    expect(over.body.error.data).toMatchObject(why);
    const paths = Array(TRPC_MAX_BATCH + 1)
      .fill('auth.revokeAccessToken')
      .join(',');
    const overByPost = await call(server.url, 'POST', `${TRPC_PREFIX}/${paths}?batch=1`, {
      token: tokens.access_token,
      json: {},
    });
    expect([overByPost.status, overByPost.body.error.data]).toMatchObject([400, why]);
    // Nothing in that batch ran: the access token still works.
    expect((await restClient(server.url).call('GET', '/me', { token: tokens.access_token })).status).toBe(200);
  });

  it('writes no query string to the logs: no password or token sent in a URL', async () => {
    const password = `pw-${uniqueLogin()}`;
    const token = `tok-${uniqueLogin()}`;
    const input = encodeURIComponent(JSON.stringify({ login: 'someone', password }));
    const mutationAsGet = await call(server.url, 'GET', `${TRPC_PREFIX}/auth.login?input=${input}`);
    expect(mutationAsGet.status).toBe(405);
    await call(server.url, 'GET', `${REST_PREFIX}/users?access_token=${token}`);
    await call(server.url, 'POST', `${REST_PREFIX}/login?password=${password}`, {
      json: { login: 'someone', password: 'not this one' },
    });
    const logs = server.logs.join('\n');
    expect(logs).toContain(`${TRPC_PREFIX}/auth.login?[redacted]`);
    expect(logs).not.toContain(password);
    expect(logs).not.toContain(token);
  });
});

describe('CORS preflight on tRPC', () => {
  let server: TestServer & { close(): Promise<void> };
  beforeAll(async () => {
    server = await startIsolatedServer('sqlite', { CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => server.close());

  it('still answers a browser preflight, where a plain OPTIONS gets 405', async () => {
    const preflight = await fetch(`${server.url}${TRPC_PREFIX}/auth.login`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});

/** A raw connection, to send a request as slowly as an attacker would. */
class SlowClient {
  readonly socket: Socket;
  received = '';
  readonly closed: Promise<number>;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connectTcp(Number(port), hostname);
    this.socket.on('data', (chunk) => {
      this.received += chunk.toString();
    });
    this.socket.on('error', () => {});
    const started = Date.now();
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve(Date.now() - started)));
  }

  /** Writes `text` a byte at a time, `everyMs` apart, until it is all sent or the server hangs up. */
  async trickle(text: string, everyMs: number): Promise<void> {
    for (const byte of text) {
      if (this.socket.destroyed || this.socket.writableEnded) return;
      this.socket.write(byte);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** The status line and JSON body of the answer received so far. */
  answer(): { status: number; body: unknown } {
    const [head = '', body = ''] = this.received.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), body: body ? JSON.parse(body) : undefined };
  }
}

describe('slow clients', () => {
  let server: TestServer & { close(): Promise<void> };
  beforeAll(async () => {
    server = await startIsolatedServer('sqlite', {
      HEADERS_TIMEOUT: '1',
      REQUEST_TIMEOUT: '2',
      CONNECTION_TIMEOUT: '2',
      KEEP_ALIVE_TIMEOUT: '1',
    });
  });
  afterAll(() => server.close());

  it('answers a trickled body with 408 once REQUEST_TIMEOUT has passed, and hangs up', async () => {
    const client = new SlowClient(server.url);
    const body = JSON.stringify({ login: 'slow.client', password: 'x'.repeat(40) });
    client.socket.write(
      `POST ${REST_PREFIX}/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // A byte every 200 ms would take 12 s to send the whole body.
    void client.trickle(body, 200);
    const closedAfterMs = await client.closed;
    expect(closedAfterMs).toBeLessThan(5000);
    expect(client.answer()).toEqual({ status: 408, body: { code: 'REQUEST_TIMEOUT', msg: expect.any(String) } });
    expect(errorLines(server)).toEqual([]);
  });

  it('answers trickled headers with 408 once HEADERS_TIMEOUT has passed', async () => {
    const client = new SlowClient(server.url);
    void client.trickle(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'y'.repeat(60)}\r\n\r\n`, 100);
    const closedAfterMs = await client.closed;
    expect(closedAfterMs).toBeLessThan(4000);
    expect(client.answer()).toEqual({ status: 408, body: { code: 'REQUEST_TIMEOUT', msg: expect.any(String) } });
  });

  it('closes a kept-alive connection left idle for KEEP_ALIVE_TIMEOUT', async () => {
    const client = new SlowClient(server.url);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const closedAfterMs = await client.closed;
    expect(client.answer().status).toBe(200);
    expect(closedAfterMs).toBeLessThan(4000);
  });

  it('closes a connection that never sends a request', async () => {
    const client = new SlowClient(server.url);
    expect(await client.closed).toBeLessThan(5000);
  });
});
