import { request } from 'node:http';
import { REST_PREFIX } from '@api-users/contract';
// biome-ignore lint/suspicious/noExplicitAny: tests read many answer shapes and assert on them; any keeps them short
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  /** JSON-encoded as the body. */
  json?: unknown;
  /** Sent as it is (for malformed bodies). */
  raw?: string;
  token?: string;
  headers?: Record<string, string>;
  /** The local address to send from (any of 127.0.0.0/8 on Linux): another client, as the server sees it. */
  from?: string;
  /** Send the path exactly as written (fetch would resolve `..` and `//` before sending). */
  verbatim?: boolean;
}

/** A real HTTP request to a listening server; the reply body is parsed as JSON. */
export async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  if (options.from !== undefined || options.verbatim) return send(base, method, path, headers, body, options.from);
  const res = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** `call` over node:http, which sends a path as it is and can choose its source address (fetch does neither). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  localAddress?: string,
): Promise<Reply> {
  const { hostname, port } = new URL(base);
  // node:http sends a DELETE or OPTIONS body with no length unless told, which the server would misread.
  if (body !== undefined) headers['content-length'] ??= String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) answerHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: res.statusCode ?? 0, headers: answerHeaders, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** REST helpers for the flows most tests need. */
export function restClient(base: string) {
  const v1 = (method: string, path: string, options?: CallOptions) =>
    call(base, method, `${REST_PREFIX}${path}`, options);
  return {
    call: v1,
    register: (user: { user_name: string; login: string; password: string; user_role?: number }, token?: string) =>
      v1('POST', '/register', { json: user, ...(token ? { token } : {}) }),
    login: (login: string, password: string) => v1('POST', '/login', { json: { login, password } }),
    /** Registers and logs in; returns the user and its token pair. */
    async signUp(login: string, password = 'a fine long password', role?: number, adminToken?: string) {
      const reg = await this.register(
        { user_name: `Name of ${login}`, login, password, ...(role ? { user_role: role } : {}) },
        adminToken,
      );
      if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
      const pair = await this.login(login, password);
      if (pair.status !== 200) throw new Error(`login failed: ${pair.status} ${JSON.stringify(pair.body)}`);
      return { user: reg.body, tokens: pair.body as { access_token: string; refresh_token: string } };
    },
  };
}
