import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { pairOf } from '../../../test-support/sign-in.js';
import { freePort, type ServerProcess, spawnServer } from '../../../test-support/spawn-server.js';
import { createClient } from '../src/index.js';
import { type AccessTokenClaims, ApiError, createIntrospector, createTokenVerifier } from '../src/server.js';
import { countingFetch, PASSWORD, uniqueLogin } from './support/helpers.js';

const ISSUER = 'https://accounts.example.test';
const AUDIENCE = 'example-services';

/** What a promise rejected with, as the fields of an ApiError. */
async function failure(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  const { status, code } = err as ApiError;
  return { status, code };
}

describe('@api-users/sdk/server', () => {
  let server: ServerProcess;
  let jwksUrl: string;
  let tokens: { access_token: string; refresh_token: string };
  beforeAll(async () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    server = await spawnServer({
      LOG_LEVEL: 'warn',
      JWT_SIGNING_KEY: String(key.export({ type: 'pkcs8', format: 'pem' })),
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    });
    jwksUrl = `${server.url}/.well-known/jwks.json`;
    const client = createClient({ baseUrl: server.url });
    const login = uniqueLogin('verifier');
    await client.auth.register({ user_name: 'Verified', login, password: PASSWORD });
    tokens = pairOf(await client.auth.login({ login, password: PASSWORD }));
  });
  afterAll(() => server?.stop());

  it('verifies an access token offline and returns its claims, typed', async () => {
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl });
    const claims = await verifier.verify(tokens.access_token);
    expect(claims).toEqual(decodeJwt(tokens.access_token));
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, type: 'access', role: 2 });
    expectTypeOf(claims).toEqualTypeOf<AccessTokenClaims>();
    expectTypeOf(claims.role).toEqualTypeOf<1 | 2>();
    expect(await verifier.verifyAuthorization(`bearer ${tokens.access_token}`)).toEqual(claims);
  });

  it("rejects with the SDK's ApiError and the API's codes", async () => {
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl });
    const invalid = { status: 401, code: 'INVALID_TOKEN' };
    // A refresh token is opaque, for the API alone: not a token a resource server can verify at all.
    expect(await failure(verifier.verify(tokens.refresh_token))).toEqual(invalid);
    expect(await failure(verifier.verify('not.a.token'))).toEqual(invalid);
    expect(await failure(verifier.verifyAuthorization(undefined))).toEqual({ status: 401, code: 'AUTH_REQUIRED' });
    expect(await failure(verifier.verifyAuthorization(`Basic ${tokens.access_token}`))).toEqual(invalid);
    for (const wrong of [
      { issuer: 'https://someone.else', audience: AUDIENCE },
      { issuer: ISSUER, audience: 'another-service' },
    ]) {
      expect(await failure(createTokenVerifier({ ...wrong, jwksUrl }).verify(tokens.access_token))).toEqual(invalid);
    }
  });

  it('tells a key set it cannot get from a bad token', async () => {
    const verify = (url: string) =>
      failure(createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: url }).verify(tokens.access_token));
    expect(await verify(`http://127.0.0.1:${await freePort()}/jwks.json`)).toEqual({
      status: 0,
      code: 'NETWORK_ERROR',
    });
    expect(await verify(`${server.url}/nowhere`)).toEqual({ status: 404, code: 'INVALID_RESPONSE' });
    expect(await verify(`${server.url}/healthz`)).toEqual({ status: 200, code: 'INVALID_RESPONSE' });
  });

  it('fetches the key set again for an unknown kid, but not more often than the cooldown allows', async () => {
    const counter = countingFetch('jwks.json');
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl, fetch: counter.fetch });
    await verifier.verify(tokens.access_token);
    await verifier.verify(tokens.access_token);
    expect(counter.count()).toBe(1);
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const claims = decodeJwt(tokens.access_token);
    for (let i = 0; i < 5; i++) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: `unknown-${i}` })
        .sign(stranger);
      expect(await failure(verifier.verify(forged))).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    }
    // The first key set is fresh: within the 30 s cooldown no unknown kid makes it fetch again.
    expect(counter.count()).toBe(1);
    const eager = countingFetch('jwks.json');
    const noCooldown = createTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl,
      fetch: eager.fetch,
      cooldownMs: 0,
    });
    await noCooldown.verify(tokens.access_token);
    const unknown = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'new' })
      .sign(stranger);
    await failure(noCooldown.verify(unknown));
    expect(eager.count()).toBe(2);
  });

  it('introspects: active with the claims, then inactive once the token is revoked', async () => {
    const client = createClient({ baseUrl: server.url });
    const login = uniqueLogin('introspected');
    await client.auth.register({ user_name: 'Introspected', login, password: PASSWORD });
    const pair = pairOf(await client.auth.login({ login, password: PASSWORD }));
    const introspect = createIntrospector({ baseUrl: server.url });
    expect(await introspect(pair.access_token)).toEqual({ active: true, ...decodeJwt(pair.access_token) });
    await client.auth.revokeAccessToken();
    expect(await introspect(pair.access_token)).toEqual({ active: false });
    expect(await failure(introspect(''))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });
});

/** The modules an entry loads, following relative imports through src; and the packages it names. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
    // Type-only imports vanish from the built JavaScript, so they load nothing.
    for (const [, typeOnly, specifier] of source.matchAll(/^(?:import|export)( type)?[^'"]*?from '([^']+)'/gm)) {
      if (typeOnly || !specifier) continue;
      if (specifier.startsWith('./')) visit(specifier.slice(2).replace(/\.js$/, '.ts'));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('entry points', () => {
  it('keep the verifier out of the browser entry, and the browser client out of the server entry', () => {
    const browser = importGraph('index.ts');
    const server = importGraph('server.ts');
    expect(browser.packages.has('jose')).toBe(false);
    // What both load: the one ApiError class (so `instanceof` holds across entries) and the fetch wrapper.
    expect([...browser.files].filter((f) => server.files.has(f)).sort()).toEqual([
      'client-options.ts',
      'errors.ts',
      'fetch.ts',
    ]);
    expect([...server.packages].sort()).toEqual([
      '@api-users/contract',
      '@api-users/contract/wire',
      'jose',
      'standardwebhooks',
    ]);
    expect(browser.packages.has('standardwebhooks')).toBe(false);
    expect(server.files.has('token-verifier.ts')).toBe(true);
  });
});
