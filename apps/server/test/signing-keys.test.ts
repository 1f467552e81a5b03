import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import { calculateJwkThumbprint, createLocalJWKSet, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { spawnServer } from '../../../test-support/spawn-server.js';
import { JWKS_PATH } from '../src/http/adapters/jwks.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase, useTestDatabase } from './support/databases.js';
import { call, restClient } from './support/http.js';
import { startServer, TEST_SECRET, type TestServer, uniqueLogin } from './support/server.js';
import { claimsOf, forgeToken, headerOf, kidOf, signAsBefore } from './support/tokens.js';

const pkcs8 = (key: KeyObject) => String(key.export({ type: 'pkcs8', format: 'pem' }));
const spki = (key: KeyObject) => String(createPublicKey(key).export({ type: 'spki', format: 'pem' }));
const publicJwk = (key: KeyObject) => createPublicKey(key).export({ format: 'jwk' }) as JWK;
const thumbprint = (key: KeyObject) => calculateJwkThumbprint(publicJwk(key), 'sha256');

const ISSUER = 'https://accounts.example.test';
const AUDIENCE = 'example-services';

describeEachDatabase('signing keys', (dialect) => {
  const ed = generateKeyPairSync('ed25519').privateKey;
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  /** Signs with the Ed25519 key, keeps accepting TEST_SECRET's tokens, and names itself and its audience. */
  const edServer = { JWT_SIGNING_KEY: pkcs8(ed), JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };
  const database = useTestDatabase(dialect);
  const servers: TestServer[] = [];
  const serve = async (env: Record<string, string | undefined> = {}) => {
    const server = await startServer(database.url, env);
    servers.push(server);
    return server;
  };
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const users = (server: TestServer, token: string) => call(server.url, 'GET', `${REST_PREFIX}/users`, { token });

  it('signs with an Ed25519 key as RFC 9068 access tokens, and publishes only public keys, cacheable', async () => {
    // The P-256 key is given whole, private part and all, as a verify-only key: only its public part may show.
    const server = await serve({
      ...edServer,
      JWT_VERIFY_KEYS: JSON.stringify({ keys: [p256.export({ format: 'jwk' })] }),
    });
    const { tokens } = await restClient(server.url).signUp(uniqueLogin('eddsa'));
    expect(headerOf(tokens.access_token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: await thumbprint(ed) });
    expect(claimsOf(tokens.access_token)).toMatchObject({ iss: ISSUER, aud: AUDIENCE, type: 'access' });
    expect((await users(server, tokens.access_token)).status).toBe(200);

    const res = await fetch(server.url + JWKS_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const jwks = await res.json();
    // Exactly the public members: no `d` of either private key, no HMAC secret (`kty: oct`) though one is set.
    expect(jwks).toEqual({
      keys: [
        { ...publicJwk(ed), kid: await thumbprint(ed), alg: 'EdDSA', use: 'sig' },
        { ...publicJwk(p256), kid: await thumbprint(p256), alg: 'ES256', use: 'sig' },
      ],
    });
    // Any JOSE library can check our tokens with what is published.
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe(claimsOf(tokens.access_token).sub);
    // A refresh token is for this service alone: no JWT at all, so no verifier of access tokens takes it, even
    // one that checks only signature, issuer, audience and expiry (many JOSE libraries' defaults).
    expect(tokens.refresh_token).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    await expect(
      jwtVerify(tokens.refresh_token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: AUDIENCE }),
    ).rejects.toThrow();
  });

  it('signs ES256 with a P-256 key given as a JWK', async () => {
    const server = await serve({ JWT_SIGNING_KEY: JSON.stringify(p256.export({ format: 'jwk' })) });
    const { tokens } = await restClient(server.url).signUp(uniqueLogin('es256'));
    expect(headerOf(tokens.access_token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: await thumbprint(p256) });
    expect((await users(server, tokens.access_token)).status).toBe(200);
  });

  it('keeps every token issued before the upgrade working until it expires, after a move to EdDSA too', async () => {
    const before = await serve(); // JWT_SECRET alone, as every deployment had it
    const { tokens } = await restClient(before.url).signUp(uniqueLogin('upgrade'));
    expect(headerOf(tokens.access_token)).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
    // The same session's tokens as a version before keys signed them (its session row knew its refresh token
    // by the token's jti, as rows kept from before opaque refresh tokens do).
    const { sid, sub, role } = claimsOf(tokens.access_token);
    const refreshJti = randomUUID();
    await before.app.database.db
      .updateTable('sessions')
      .set({ refresh_ref: refreshJti })
      .where('sid', '=', sid)
      .execute();
    const now = Math.floor(Date.now() / 1000);
    const times = { iat: now, nbf: now };
    const oldAccess = signAsBefore({ sub, type: 'access', jti: randomUUID(), sid, role, ...times, exp: now + 900 });
    const oldRefresh = signAsBefore({ sub, type: 'refresh', jti: refreshJti, sid, role, ...times, exp: now + 86_400 });
    expect(headerOf(oldAccess)).toEqual({ alg: 'HS256', typ: 'JWT', kid: expect.any(String) });

    const after = await serve({ ...edServer, JWT_SECRET: TEST_SECRET });
    for (const server of [before, after]) expect((await users(server, oldAccess)).status).toBe(200);
    const introspected = await call(after.url, 'POST', `${REST_PREFIX}/introspect`, { json: { token: oldAccess } });
    expect(introspected.body).toMatchObject({ active: true, sid });
    const renewed = await call(after.url, 'POST', `${REST_PREFIX}/refresh`, { token: oldRefresh });
    expect(renewed.status).toBe(200);
    expect(headerOf(renewed.body.access_token)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(claimsOf(renewed.body.access_token)).toMatchObject({ sid, iss: ISSUER, aud: AUDIENCE });

    // Setting JWT_ISSUER and JWT_AUDIENCE signs nobody out: an access token without them is refused, and the
    // refresh token of its pair, without them too, brings a pair that has them.
    const earlier = (await restClient(before.url).signUp(uniqueLogin('upgrade'))).tokens;
    expect((await users(after, earlier.access_token)).body.code).toBe('INVALID_TOKEN');
    const refreshed = await call(after.url, 'POST', `${REST_PREFIX}/refresh`, { token: earlier.refresh_token });
    expect(refreshed.status).toBe(200);
    expect((await users(after, refreshed.body.access_token)).status).toBe(200);
  });

  it('accepts a token only in the algorithm its key is configured for (an HS512 token is no HS256 token)', async () => {
    const server = await serve();
    const { tokens } = await restClient(server.url).signUp(uniqueLogin('alg'));
    const { kid, typ } = headerOf(tokens.access_token);
    const claims = claimsOf(tokens.access_token);
    // The token differs from the live one in its algorithm only.
    expect((await users(server, forgeToken(claims, { kid, typ }))).status).toBe(200);
    const hs512 = await users(server, forgeToken(claims, { kid, typ, algorithm: 'HS512' }));
    expect([hs512.status, hs512.body.code]).toEqual([401, 'INVALID_TOKEN']);

    // Algorithm confusion: the published Ed25519 key used as an HMAC secret.
    const edSigned = await serve(edServer);
    const pair = (await restClient(edSigned.url).signUp(uniqueLogin('confused'))).tokens;
    const confused = forgeToken(claimsOf(pair.access_token), { key: spki(ed), kid: await thumbprint(ed) });
    expect((await users(edSigned, confused)).body.code).toBe('INVALID_TOKEN');
  });

  it('names an HMAC secret by a kid that says nothing about it, the same on every instance', async () => {
    const [a, b] = [await serve(), await serve()];
    const kid = kidOf((await restClient(a.url).signUp(uniqueLogin('kid'))).tokens.access_token);
    expect(kidOf((await restClient(b.url).signUp(uniqueLogin('kid'))).tokens.access_token)).toBe(kid);
    const other = await serve({ JWT_SECRET: 'another-secret-that-is-at-least-32-characters' });
    expect(kidOf((await restClient(other.url).signUp(uniqueLogin('kid'))).tokens.access_token)).not.toBe(kid);
    // No plain digest of the secret, in any usual encoding, contains it.
    for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512']) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        expect(createHash(algorithm).update(TEST_SECRET).digest(encoding)).not.toContain(kid);
      }
    }
  });

  it('takes the Bearer scheme in any case (RFC 6750)', async () => {
    const server = await serve();
    const { tokens } = await restClient(server.url).signUp(uniqueLogin('scheme'));
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const res = await call(server.url, 'GET', `${REST_PREFIX}/users`, {
        headers: { authorization: `${scheme} ${tokens.access_token}` },
      });
      expect([scheme, res.status]).toEqual([scheme, 200]);
    }
  });

  it('requires typ at+jwt of access tokens, and the configured issuer and audience', async () => {
    const server = await serve(edServer);
    const { tokens } = await restClient(server.url).signUp(uniqueLogin('claims'));
    const claims = claimsOf(tokens.access_token);
    const key = { key: pkcs8(ed), algorithm: 'EdDSA' as const, kid: await thumbprint(ed) };
    const { iss, aud, ...anonymous } = claims;
    // The forger is right: the same claims signed the same way pass.
    expect((await users(server, forgeToken(claims, key))).status).toBe(200);
    for (const [what, token] of [
      ['typ JWT', forgeToken(claims, { ...key, typ: 'JWT' })],
      ['no iss or aud', forgeToken(anonymous, key)],
      ['another issuer', forgeToken({ ...claims, iss: 'https://evil.example' }, key)],
      ['another audience', forgeToken({ ...claims, aud: 'another-service' }, key)],
    ]) {
      const res = await users(server, String(token));
      expect([what, res.status, res.body.code]).toEqual([what, 401, 'INVALID_TOKEN']);
    }
  });

  it('rotates keys: old and new tokens verify while the old key is published; removing it ends the old ones', async () => {
    const first = await serve(edServer);
    const old = (await restClient(first.url).signUp(uniqueLogin('rotate'))).tokens;
    // Step 2: the P-256 key signs, the Ed25519 key only verifies (and is still published).
    const rotated = await serve({ ...edServer, JWT_SIGNING_KEY: pkcs8(p256), JWT_VERIFY_KEYS: spki(ed) });
    const fresh = (await restClient(rotated.url).signUp(uniqueLogin('rotate'))).tokens;
    expect(kidOf(fresh.access_token)).toBe(await thumbprint(p256));
    for (const token of [old.access_token, fresh.access_token]) expect((await users(rotated, token)).status).toBe(200);
    const kids = (await (await fetch(rotated.url + JWKS_PATH)).json()).keys.map((k: JWK) => k.kid);
    expect(kids).toEqual([await thumbprint(p256), await thumbprint(ed)]);
    // A refresh token of the old key still renews its session, now under the new key.
    const renewed = await call(rotated.url, 'POST', `${REST_PREFIX}/refresh`, { token: old.refresh_token });
    expect(kidOf(renewed.body.access_token)).toBe(await thumbprint(p256));
    // Step 3: the old key is gone, and with it every access token it signed; refresh tokens are signed by no
    // key, so the session goes on under the new one.
    const after = await serve({ ...edServer, JWT_SIGNING_KEY: pkcs8(p256) });
    const oldPair = (await restClient(first.url).signUp(uniqueLogin('rotate'))).tokens;
    expect((await users(after, oldPair.access_token)).body.code).toBe('INVALID_TOKEN');
    const carriedOn = await call(after.url, 'POST', `${REST_PREFIX}/refresh`, { token: oldPair.refresh_token });
    expect(kidOf(carriedOn.body.access_token)).toBe(await thumbprint(p256));
    expect((await users(after, fresh.access_token)).status).toBe(200);
  });
});

describeEachDatabase('token introspection', (dialect) => {
  let database: TestDatabase;
  let server: TestServer;
  const ed = generateKeyPairSync('ed25519').privateKey;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    server = await startServer(database.url, {
      JWT_SIGNING_KEY: pkcs8(ed),
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    });
  });
  afterAll(async () => {
    await server.close();
    await database.drop();
  });
  const introspect = (token: string) => call(server.url, 'POST', `${REST_PREFIX}/introspect`, { json: { token } });
  const inactive = async (token: string) => {
    const res = await introspect(token);
    expect([res.status, res.body]).toEqual([200, { active: false }]);
  };

  it('answers the claims of a live access token, and only active: false once it is revoked', async () => {
    const api = restClient(server.url);
    const { tokens } = await api.signUp(uniqueLogin('introspect'));
    const live = await introspect(tokens.access_token);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ active: true, ...claimsOf(tokens.access_token) });
    expect(live.body).toMatchObject({ iss: ISSUER, aud: AUDIENCE, type: 'access' });
    // The same over tRPC; no Authorization is needed, the token itself is the credential.
    const trpc = await call(server.url, 'POST', `${TRPC_PREFIX}/auth.introspect`, {
      json: { token: tokens.access_token },
    });
    expect(trpc.body.result.data).toEqual(live.body);
    await api.call('DELETE', '/logout', { token: tokens.access_token });
    await inactive(tokens.access_token);
  });

  it('says inactive for an ended session, an expired, refresh, foreign or garbled token', async () => {
    const api = restClient(server.url);
    const login = uniqueLogin('inactive');
    const { tokens } = await api.signUp(login);
    const ended = (await api.login(login, 'a fine long password')).body;
    await api.call('DELETE', '/logout2', { token: ended.refresh_token });
    await inactive(ended.access_token);
    const now = Math.floor(Date.now() / 1000);
    const key = { key: pkcs8(ed), algorithm: 'EdDSA' as const, kid: await thumbprint(ed) };
    const claims = claimsOf(tokens.access_token);
    await inactive(forgeToken({ ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 60 }, key));
    await inactive(tokens.refresh_token);
    const stranger = generateKeyPairSync('ed25519').privateKey;
    await inactive(forgeToken(claims, { ...key, key: pkcs8(stranger) }));
    await inactive('not.a.token');
    // The live token of that user is still active: the answers above are about the tokens, not the user.
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
  });

  it('refuses a request that is not an introspection request', async () => {
    for (const json of [{}, { token: '' }, { token: 'x', extra: 1 }, { token: 'x', token_type_hint: 'id_token' }]) {
      const res = await call(server.url, 'POST', `${REST_PREFIX}/introspect`, { json });
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const hinted = await call(server.url, 'POST', `${REST_PREFIX}/introspect`, {
      json: { token: 'x', token_type_hint: 'refresh_token' },
    });
    expect(hinted.body).toEqual({ active: false });
  });
});

describe('start-up without a configured key', () => {
  it('makes an Ed25519 key in development beside the SQLite file (0600), says so once, and keeps it', async () => {
    const database = await createTestDatabase('sqlite');
    onTestFinished(() => database.drop());
    const dir = database.url.slice('sqlite:'.length).replace(/\/[^/]+$/, '');
    const keyFile = join(dir, 'jwt-signing-key.pem');
    const env = { NODE_ENV: 'development', JWT_SECRET: undefined, DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
    const first = await spawnServer(env);
    onTestFinished(() => first.stop());
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = createPrivateKey(readFileSync(keyFile, 'utf8'));
    expect(first.output().match(/development Ed25519 key/g)).toHaveLength(1);
    expect(first.output()).toContain(`just made in ${keyFile} (mode 0600)`);
    const jwks = await (await fetch(first.url + JWKS_PATH)).json();
    expect(jwks.keys.map((k: JWK) => k.kid)).toEqual([await thumbprint(key)]);
    const token = (await restClient(first.url).signUp(uniqueLogin('dev'))).tokens.access_token;
    expect(headerOf(token)).toMatchObject({ alg: 'EdDSA', kid: await thumbprint(key) });
    // A restart: the first process gone, the second finds the key it left.
    await first.stop();
    const second = await spawnServer(env);
    onTestFinished(() => second.stop());
    expect(second.output()).toContain(`kept in ${keyFile}`);
    expect((await call(second.url, 'GET', `${REST_PREFIX}/users`, { token })).status).toBe(200);
  });

  it('refuses, as ssh does, a development key file that other users could read or write', async () => {
    const database = await createTestDatabase('sqlite');
    onTestFinished(() => database.drop());
    const keyFile = join(database.url.slice('sqlite:'.length).replace(/\/[^/]+$/, ''), 'jwt-signing-key.pem');
    const env = { NODE_ENV: 'development', JWT_SECRET: undefined, DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
    const first = await spawnServer(env);
    await first.stop();
    for (const mode of [0o644, 0o620]) {
      chmodSync(keyFile, mode);
      const refused = await spawnServer(env).then(
        (server) => server.stop().then(() => 'started'),
        (err: Error) => err.message,
      );
      expect(refused).toContain(`${keyFile} is mode ${mode.toString(8)}: a private key must be readable and writable`);
    }
    chmodSync(keyFile, 0o600);
    const again = await spawnServer(env);
    await again.stop();
  });

  it('stops outside development, in one line, with no key and no secret, or with a malformed key', async () => {
    const database = await createTestDatabase('sqlite');
    const dir = database.url.slice('sqlite:'.length).replace(/\/[^/]+$/, '');
    const env = { NODE_ENV: 'production', JWT_SECRET: undefined, DATABASE_URL: database.url };
    try {
      await expect(spawnServer(env)).rejects.toThrow(
        /\nInvalid configuration:\n {2}JWT_SIGNING_KEY: required when NODE_ENV is production[^\n]*\n?$/,
      );
      const malformed = '-----BEGIN PRIVATE KEY-----\nTheKeyMaterialMustNotBeEchoed\n-----END PRIVATE KEY-----';
      const refused = spawnServer({ ...env, JWT_SIGNING_KEY: malformed });
      await expect(refused).rejects.toThrow(/\n {2}JWT_SIGNING_KEY: not a private key as PEM or JWK[^\n]*\n?$/);
      await expect(refused).rejects.not.toThrow(/TheKeyMaterial/);
      // No development key was made outside development.
      expect(() => statSync(join(dir, 'jwt-signing-key.pem'))).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await database.drop();
    }
  });
});
