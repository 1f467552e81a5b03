import { scryptSync } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isLegacyHash, verifyLegacyHash } from '../src/modules/auth/legacy-hashes.js';
import { createPasswordHasher } from '../src/modules/auth/passwords.js';
import { NO_PASSWORD } from '../src/modules/flask-import/import.js';
import { FLASK_PASSWORDS, FLASK_ROWS } from './support/flask-fixture.js';

const hashed = FLASK_ROWS.filter((r) => r.stored !== FLASK_PASSWORDS[r.id]);
const bruno = FLASK_ROWS.find((r) => r.login === 'bruno')?.stored as string;
const carla = FLASK_ROWS.find((r) => r.login === 'carla')?.stored as string;

describe('werkzeug hashes from the Flask fixture', () => {
  it('covers every kind the fixture holds', () => {
    const kinds = new Set(hashed.map((r) => r.stored.split('$')[0]));
    expect([...kinds].sort()).toEqual([
      'pbkdf2:sha256:150000',
      'pbkdf2:sha256:260000',
      'pbkdf2:sha256:600000',
      'scrypt:32768:8:1',
    ]);
  });

  it.each(hashed.map((r) => [r.stored.split('$')[0], r.login, r] as const))(
    '%s (%s): the right password opens it, a wrong one does not',
    async (_kind, _login, row) => {
      const right = FLASK_PASSWORDS[row.id] as string;
      expect(isLegacyHash(row.stored)).toBe(true);
      expect(await verifyLegacyHash(row.stored, right)).toBe(true);
      expect(await verifyLegacyHash(row.stored, `${right}x`)).toBe(false);
      expect(await verifyLegacyHash(row.stored, right.toUpperCase())).toBe(false);
    },
  );

  it('is no hash when the column holds the plain password', async () => {
    const plain = FLASK_ROWS.find((r) => r.login === 'plaintext')?.stored as string;
    expect(isLegacyHash(plain)).toBe(false);
    expect(await verifyLegacyHash(plain, plain)).toBe(false);
  });
});

describe('strict parsing', () => {
  const [method, salt, hex] = bruno.split('$') as [string, string, string];
  const malformed = {
    'empty string': '',
    'sha1 pbkdf2': `pbkdf2:sha1:600000$${salt}$${hex}`,
    'no iteration count': `pbkdf2:sha256$${salt}$${hex}`,
    'zero iterations': `pbkdf2:sha256:0$${salt}$${hex}`,
    'beyond 1,000,000 iterations': `pbkdf2:sha256:1000001$${salt}$${hex}`,
    'upper-case hex': `${method}$${salt}$${hex.toUpperCase()}`,
    'short digest': `${method}$${salt}$${hex.slice(2)}`,
    'empty salt': `${method}$$${hex}`,
    'salt outside werkzeug letters': `${method}$${salt.slice(1)}/$${hex}`,
    'extra field': `${method}$${salt}$${hex}$00`,
    'trailing newline': `${bruno}\n`,
    'leading space': ` ${bruno}`,
    'scrypt N not a power of two': carla.replace('scrypt:32768:', 'scrypt:30000:'),
    'scrypt over 32 MiB': carla.replace('scrypt:32768:8:1', 'scrypt:65536:8:1'),
    'scrypt over the work limit': carla.replace('scrypt:32768:8:1', 'scrypt:32768:8:2'),
    'scrypt r of 0': carla.replace('scrypt:32768:8:1', 'scrypt:32768:0:1'),
    'argon2 string': '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA',
    'import marker': NO_PASSWORD,
  };
  it.each(Object.entries(malformed))('%s: refused, verifies nothing', async (_name, stored) => {
    expect(isLegacyHash(stored)).toBe(false);
    expect(await verifyLegacyHash(stored, 'bruno-password-2023')).toBe(false);
  });

  it('takes scrypt parameters other than the default within the limits', async () => {
    const stored = `scrypt:16384:8:2$AbC123$${scryptSync('other params', 'AbC123', 64, { N: 16384, r: 8, p: 2 }).toString('hex')}`;
    expect(await verifyLegacyHash(stored, 'other params')).toBe(true);
    expect(await verifyLegacyHash(stored, 'other param')).toBe(false);
  });
});

describe('the password hasher with legacy hashes', () => {
  it('verifies them, asks for a rehash, and opens nothing with the import marker', async () => {
    const hasher = createPasswordHasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 });
    onTestFinished(() => hasher.close());
    expect(await hasher.verify(carla, 'carla-password-2024')).toBe(true);
    expect(await hasher.verify(carla, 'not carla')).toBe(false);
    expect(hasher.needsRehash(carla)).toBe(true);
    expect(await hasher.verify(NO_PASSWORD, NO_PASSWORD)).toBe(false);
    expect(await hasher.verify(NO_PASSWORD, 'stored-unhashed')).toBe(false);
    const fresh = await hasher.hash('carla-password-2024');
    expect(hasher.needsRehash(fresh)).toBe(false);
  });
});
