import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOCAL_PASSKEYS } from '../../../test-support/settings.js';
import { ConfigError, loadConfig } from '../src/config.js';

const ed25519Pem = String(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('configuration', () => {
  it('starts with no configuration at all in development, on the embedded SQLite file', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 5000, databaseUrl: 'sqlite:./data/api-users.sqlite' });
    // No key and no secret: the development key beside the SQLite file signs (made on first start).
    expect(config.jwt).toEqual({
      verifyKeys: [],
      previousSecrets: [],
      algorithm: 'HS256',
      developmentKeyFile: 'data/jwt-signing-key.pem',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/srv/api/users.db' }).jwt.developmentKeyFile).toBe(
      '/srv/api/jwt-signing-key.pem',
    );
    expect(loadConfig({ DATABASE_URL: 'mysql://root@db/api' }).jwt.developmentKeyFile).toBe('data/jwt-signing-key.pem');
  });

  it('requires a signing key or a secret outside development, and makes no key then', () => {
    for (const env of ['test', 'production']) {
      expect(problems({ NODE_ENV: env })).toEqual([expect.stringMatching(/^JWT_SIGNING_KEY: required when NODE_ENV/)]);
    }
    const secretOnly = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), ...LOCAL_PASSKEYS });
    expect(secretOnly.jwt).toMatchObject({ secret: 'x'.repeat(32), algorithm: 'HS256' });
    expect(secretOnly.jwt.developmentKeyFile).toBeUndefined();
    const keyOnly = loadConfig({ NODE_ENV: 'production', JWT_SIGNING_KEY: ed25519Pem, ...LOCAL_PASSKEYS });
    expect(keyOnly.jwt.signingKey?.asymmetricKeyType).toBe('ed25519');
    expect(keyOnly.jwt.developmentKeyFile).toBeUndefined();
  });

  it('reads keys as PEM (also with \\n escapes) or JWK, and public keys as a JWK set or PEM blocks', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = JSON.stringify(p256.privateKey.export({ format: 'jwk' }));
    expect(loadConfig({ JWT_SIGNING_KEY: jwk }).jwt.signingKey?.asymmetricKeyType).toBe('ec');
    const oneLine = ed25519Pem.trim().replaceAll('\n', '\\n');
    expect(loadConfig({ JWT_SIGNING_KEY: oneLine }).jwt.signingKey?.asymmetricKeyType).toBe('ed25519');
    const publicPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
    const ed = generateKeyPairSync('ed25519').publicKey;
    const set = JSON.stringify({ keys: [ed.export({ format: 'jwk' }), p256.publicKey.export({ format: 'jwk' })] });
    for (const text of [set, publicPem(ed) + publicPem(p256.publicKey)]) {
      const keys = loadConfig({ JWT_VERIFY_KEYS: text }).jwt.verifyKeys;
      expect(keys.map((k) => [k.type, k.asymmetricKeyType])).toEqual([
        ['public', 'ed25519'],
        ['public', 'ec'],
      ]);
    }
    // A private key among the verify-only keys is kept as its public part.
    expect(loadConfig({ JWT_VERIFY_KEYS: ed25519Pem }).jwt.verifyKeys[0]?.type).toBe('public');
  });

  it('refuses malformed and unsupported keys, one line each, without quoting them', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' });
    const garbage = 'MC4CAQAwBQYDK2VwBCIEIBadKeyMaterialThatMustNotBeEchoed';
    const lines = problems({
      NODE_ENV: 'production',
      JWT_SIGNING_KEY: String(rsa),
      JWT_VERIFY_KEYS: `${String(p384)}`,
    });
    expect(lines).toEqual([
      'JWT_SIGNING_KEY: must be an Ed25519 (EdDSA) or P-256 (ES256) key',
      'JWT_VERIFY_KEYS: must be an Ed25519 (EdDSA) or P-256 (ES256) key',
    ]);
    const bad = problems({ JWT_SIGNING_KEY: garbage, JWT_VERIFY_KEYS: `{"keys":[{"kty":"OKP","x":"${garbage}"}]}` });
    expect(bad).toEqual([
      expect.stringMatching(/^JWT_SIGNING_KEY: not a private key as PEM or JWK/),
      expect.stringMatching(/^JWT_VERIFY_KEYS: not a JWK set, a JWK or PEM public keys/),
    ]);
    expect(bad.join('\n')).not.toContain('BadKeyMaterial');
  });

  it('names every bad variable on a line of its own', () => {
    const lines = problems({
      PORT: 'eighty',
      DATABASE_URL: 'mongodb://x',
      JWT_SECRET: 'short',
      ACCESS_TOKEN_TTL: '5',
      DB_STATEMENT_TIMEOUT: '0',
      SESSION_MAX_AGE: 'forever',
    });
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual([
      'ACCESS_TOKEN_TTL',
      'DATABASE_URL',
      'DB_STATEMENT_TIMEOUT',
      'JWT_SECRET',
      'PORT',
      'SESSION_MAX_AGE',
    ]);
  });

  it('refuses an empty or non-whole number by name, instead of reading it as 0 (a random port, a limit off)', () => {
    for (const [name, value] of [
      ['PORT', ''],
      ['PORT', ' 80'],
      ['RATE_LIMIT_PER_ADDRESS', ''],
      ['PURGE_INTERVAL', ''],
      ['DB_POOL_SIZE', '1.5'],
      ['BODY_LIMIT', '1e5'],
    ] as const) {
      expect(problems({ [name]: value }), `${name}=${value}`).toEqual([
        expect.stringMatching(new RegExp(`^${name}: must be a whole number from \\d+ to \\d+$`)),
      ]);
    }
    expect(loadConfig({ PORT: '0', RATE_LIMIT_PER_ADDRESS: '0' })).toMatchObject({
      port: 0,
      rateLimit: { perAddress: 0 },
    });
  });

  it('checks TRUST_PROXY as Fastify will read it, naming the variable', () => {
    expect(problems({ TRUST_PROXY: 'maybe' })).toEqual([
      'TRUST_PROXY: true, false, or comma-separated addresses/CIDRs (invalid IP address: maybe)',
    ]);
    expect(problems({ TRUST_PROXY: '10.0.0.0/33' })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1,loopback' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
      'loopback',
    ]);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(problems({ TRUST_PROXY: '1' })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
    expect(loadConfig({}).trustProxy).toBe(false);
  });

  it('refuses rate limits that would let one address lock an account out', () => {
    for (const [perAccountAddress, perAccount] of [
      ['10', '10'],
      ['10', '5'],
      ['0', '100'],
    ]) {
      expect(
        problems({
          RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: perAccountAddress as string,
          RATE_LIMIT_FAILURES_PER_ACCOUNT: perAccount as string,
        }),
      ).toEqual([expect.stringMatching(/^RATE_LIMIT_FAILURES_PER_ACCOUNT: must be above/)]);
    }
    expect(problems({ RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '0', RATE_LIMIT_FAILURES_PER_ACCOUNT: '0' })).toEqual(
      [],
    );
  });

  it('keeps database rate-limit counters only in a database of that kind, and header time within request time', () => {
    expect(problems({ RATE_LIMIT_STORE: 'mysql' })).toEqual([expect.stringMatching(/^RATE_LIMIT_STORE: /)]);
    expect(problems({ RATE_LIMIT_STORE: 'mysql', DATABASE_URL: 'mysql://root@127.0.0.1:3306/x' })).toEqual([]);
    expect(problems({ RATE_LIMIT_STORE: 'postgres', DATABASE_URL: 'mysql://root@127.0.0.1:3306/x' })).toEqual([
      'RATE_LIMIT_STORE: postgres keeps the counters in the app database, so DATABASE_URL must be postgres://',
    ]);
    expect(problems({ RATE_LIMIT_STORE: 'postgres', DATABASE_URL: 'postgresql://root@127.0.0.1/x' })).toEqual([]);
    expect(problems({ HEADERS_TIMEOUT: '40', REQUEST_TIMEOUT: '30' })).toEqual([
      expect.stringMatching(/^HEADERS_TIMEOUT: /),
    ]);
  });

  it('turns metrics on with a long token or a port of their own, never the API port', () => {
    expect(loadConfig({}).metrics).toEqual({});
    expect(problems({ METRICS_TOKEN: 'short' })).toEqual([expect.stringMatching(/^METRICS_TOKEN: at least 32/)]);
    expect(problems({ METRICS_PORT: '5000', PORT: '5000' })).toEqual(['METRICS_PORT: must differ from PORT']);
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_TOKEN: 'm'.repeat(32) }).metrics).toEqual({
      port: 9464,
      token: 'm'.repeat(32),
    });
  });

  it('names the passkeys’ relying party: localhost in development, required in production, origins on it', () => {
    expect(loadConfig({ PORT: '5001' }).webauthn).toEqual({
      rpId: 'localhost',
      rpName: 'Api users',
      origins: ['http://localhost:5001'],
    });
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) })).toEqual([
      expect.stringMatching(/^WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS: required when NODE_ENV is production/),
    ]);
    const named = { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://example.com,https://app.example.com' };
    expect(loadConfig(named).webauthn.origins).toEqual(['https://example.com', 'https://app.example.com']);
    expect(problems({ WEBAUTHN_RP_ID: '127.0.0.1' })).toEqual([
      'WEBAUTHN_RP_ID: must be a domain name such as example.com (browsers refuse IP addresses)',
    ]);
    expect(
      problems({
        WEBAUTHN_RP_ID: 'example.com',
        WEBAUTHN_ORIGINS: 'http://app.example.com,https://evil.com,https://example.com/login,nonsense',
      }),
    ).toEqual([
      'WEBAUTHN_ORIGINS: http://app.example.com must be https (http only for localhost)',
      'WEBAUTHN_ORIGINS: https://evil.com is not on WEBAUTHN_RP_ID example.com or a domain under it',
      'WEBAUTHN_ORIGINS: https://example.com/login must be an origin alone (https://example.com), no path',
      'WEBAUTHN_ORIGINS: nonsense is not an origin such as https://app.example.com',
    ]);
  });
});
