import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@api-users/sdk';
import { createIntrospector } from '@api-users/sdk/server';
import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uniqueLogin } from '../../../test-support/settings.js';
import { pairOf } from '../../../test-support/sign-in.js';
import { freePort, type ServerProcess, spawnServer } from '../../../test-support/spawn-server.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../server/test/support/databases.js';
import { buildResourceServer } from '../src/app.js';

const ISSUER = 'https://accounts.example.test';
const AUDIENCE = 'example-services';
const PASSWORD = 'a fine long password';
/** The verifier's cache lifetime in this test: a removed key stops verifying after it. */
const CACHE_MAX_AGE_MS = 1000;

const pkcs8 = (key: KeyObject) => String(key.export({ type: 'pkcs8', format: 'pem' }));
const spki = (key: KeyObject) => String(createPublicKey(key).export({ type: 'spki', format: 'pem' }));
const kidOf = (key: KeyObject) => calculateJwkThumbprint(createPublicKey(key).export({ format: 'jwk' }) as JWK);

describeEachDatabase('a resource server that trusts our access tokens', (dialect) => {
  const first = generateKeyPairSync('ed25519').privateKey;
  const second = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  let database: TestDatabase;
  let port: number;
  let api: ServerProcess | undefined;
  let resource: FastifyInstance;
  let resourceUrl: string;

  /** (Re)starts the API with these keys, on the same port and database, as a redeploy would. */
  const deployApi = async (keys: Record<string, string>) => {
    await api?.stop();
    api = await spawnServer({
      DATABASE_URL: database.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      JWT_SECRET: undefined,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      ...keys,
    });
  };

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    port = await freePort();
    await deployApi({ JWT_SIGNING_KEY: pkcs8(first) });
    resource = buildResourceServer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      cacheMaxAgeMs: CACHE_MAX_AGE_MS,
      cooldownMs: 0,
    });
    resourceUrl = await resource.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await resource?.close();
    await api?.stop();
    await database?.drop();
  });

  /** A new account signed in through the SDK; returns its client and token pair. */
  const signUp = async () => {
    const client = createClient({ baseUrl: `http://127.0.0.1:${port}` });
    const login = uniqueLogin('resource');
    await client.auth.register({ user_name: 'Resource User', login, password: PASSWORD });
    return { client, tokens: pairOf(await client.auth.login({ login, password: PASSWORD })) };
  };
  const hello = async (token?: string) => {
    const res = await fetch(`${resourceUrl}/hello`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, body: await res.json() };
  };
  /** A token the API never issued, signed as it signs them but for the changes given. */
  const forge = async (claims: Record<string, unknown>, key: KeyObject) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: await kidOf(key) }).sign(key);

  it('lets a valid token through, and refuses a tampered, expired, misaddressed or unknown-key one', async () => {
    const { tokens } = await signUp();
    const claims = decodeJwt(tokens.access_token);
    expect(await hello(tokens.access_token)).toEqual({ status: 200, body: { user: Number(claims.sub), role: 2 } });

    const [header, , signature] = tokens.access_token.split('.');
    const asAdmin = Buffer.from(JSON.stringify({ ...claims, role: 1 })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const refused: Array<[string, string | undefined, string]> = [
      ['no token', undefined, 'AUTH_REQUIRED'],
      ['tampered', `${header}.${asAdmin}.${signature}`, 'INVALID_TOKEN'],
      ['expired', await forge({ ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 60 }, first), 'TOKEN_EXPIRED'],
      ['another audience', await forge({ ...claims, aud: 'another-service' }, first), 'INVALID_TOKEN'],
      ['unknown key', await forge(claims, generateKeyPairSync('ed25519').privateKey), 'INVALID_TOKEN'],
      // Opaque, for the API alone: no JWT, so nothing a resource server could verify.
      ['refresh token', tokens.refresh_token, 'INVALID_TOKEN'],
    ];
    for (const [what, token, code] of refused) {
      const res = await hello(token);
      expect([what, res.status, res.body.code]).toEqual([what, 401, code]);
    }
    // The forger signs exactly as the API does: the same claims, unchanged, pass.
    expect((await hello(await forge(claims, first))).status).toBe(200);
  });

  it('lets a revoked token through offline, while introspection says it is inactive', async () => {
    const { client, tokens } = await signUp();
    const introspect = createIntrospector({ baseUrl: `http://127.0.0.1:${port}` });
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, iss: ISSUER, aud: AUDIENCE });
    await client.auth.revokeAccessToken();
    expect((await hello(tokens.access_token)).status).toBe(200);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it('verifies old and new tokens through a key rotation, and refuses the old ones once the old key is gone', async () => {
    const before = (await signUp()).tokens.access_token;
    expect((await hello(before)).status).toBe(200);
    // The new key signs; the old one only verifies, and is still published.
    await deployApi({ JWT_SIGNING_KEY: pkcs8(second), JWT_VERIFY_KEYS: spki(first) });
    const after = (await signUp()).tokens.access_token;
    expect(decodeProtectedHeader(after)).toMatchObject({ alg: 'ES256', kid: await kidOf(second) });
    for (const token of [before, after]) expect((await hello(token)).status).toBe(200);
    // The old key is removed; once the verifier's cached key set is stale, the old key's tokens fail.
    await deployApi({ JWT_SIGNING_KEY: pkcs8(second) });
    await sleep(CACHE_MAX_AGE_MS + 100);
    expect(await hello(before)).toMatchObject({ status: 401, body: { code: 'INVALID_TOKEN' } });
    expect((await hello(after)).status).toBe(200);
  });
});
