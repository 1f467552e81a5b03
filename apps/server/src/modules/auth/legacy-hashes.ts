import { pbkdf2, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Werkzeug's `generate_password_hash` strings, as the Flask service stored them: `method$salt$hex`, the salt
 * used as its UTF-8 text (werkzeug draws it from letters and digits), the key in lower-case hex. Hand-written
 * because no maintained npm package reads werkzeug's format; the cryptography is node:crypto's.
 */
interface LegacyHash {
  derive(password: string): Promise<Buffer>;
  digest: Buffer;
}

const PBKDF2 = /^pbkdf2:sha256:(\d{1,7})\$([A-Za-z0-9]{1,64})\$([0-9a-f]{64})$/;
const SCRYPT = /^scrypt:(\d{1,7}):(\d{1,2}):(\d{1,2})\$([A-Za-z0-9]{1,64})\$([0-9a-f]{128})$/;

/**
 * What a stored hash may cost a login, so that no row can make the server spend seconds or gigabytes:
 * nothing dearer than the dearest werkzeug default (pbkdf2 1,000,000 iterations in werkzeug 3.1;
 * `scrypt:32768:8:1`, 32 MiB, in werkzeug 3). A hash beyond them is not accepted (the import reports it).
 */
const LEGACY_LIMITS = {
  pbkdf2Iterations: 1_000_000,
  /** 128·N·r bytes. */
  scryptMemory: 32 * 1024 * 1024,
  /** N·r·p, scrypt's work. */
  scryptWork: 32_768 * 8,
};

/** Node refuses scrypt above 32 MiB by default; the limit above needs a little more (scrypt's B array). */
const SCRYPT_MAXMEM = 2 * LEGACY_LIMITS.scryptMemory;

const derivePbkdf2 = (password: string, salt: string, iterations: number) =>
  new Promise<Buffer>((resolve, reject) =>
    pbkdf2(password, salt, iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );

const deriveScrypt = (password: string, salt: string, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, 64, { ...options, maxmem: SCRYPT_MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))),
  );

const isPowerOfTwo = (n: number) => n >= 2 && (n & (n - 1)) === 0;

function parse(stored: string): LegacyHash | null {
  const p = PBKDF2.exec(stored);
  if (p) {
    const [, iterations, salt = '', hex = ''] = p;
    const count = Number(iterations);
    if (count < 1 || count > LEGACY_LIMITS.pbkdf2Iterations) return null;
    return { derive: (password) => derivePbkdf2(password, salt, count), digest: Buffer.from(hex, 'hex') };
  }
  const s = SCRYPT.exec(stored);
  if (s) {
    const [N, r, p] = s.slice(1, 4).map(Number) as [number, number, number];
    const [salt = '', hex = ''] = s.slice(4);
    if (!isPowerOfTwo(N) || r < 1 || p < 1) return null;
    if (128 * N * r > LEGACY_LIMITS.scryptMemory || N * r * p > LEGACY_LIMITS.scryptWork) return null;
    return { derive: (password) => deriveScrypt(password, salt, { N, r, p }), digest: Buffer.from(hex, 'hex') };
  }
  return null;
}

/** True for a werkzeug pbkdf2-sha256 or scrypt hash within the limits; such a hash is verified, then replaced. */
export const isLegacyHash = (stored: string): boolean => parse(stored) !== null;

/** The method part (`pbkdf2:sha256:260000`, `scrypt:32768:8:1`) of an accepted hash, for reports. */
export const legacyHashMethod = (stored: string): string | null =>
  isLegacyHash(stored) ? (stored.split('$', 1)[0] ?? null) : null;

/**
 * Checks a password against a werkzeug hash on libuv's thread pool (node:crypto's async pbkdf2 and scrypt),
 * off the event loop, comparing in constant time. False for anything that is not an accepted hash.
 */
export async function verifyLegacyHash(stored: string, password: string): Promise<boolean> {
  const hash = parse(stored);
  if (!hash) return false;
  return timingSafeEqual(await hash.derive(password), hash.digest);
}

/**
 * How long the dearest accepted legacy hash takes to verify on this machine (ms): the failed-login floor is
 * set from it. Verifies twice at each limit and keeps the faster run, so a busy moment does not inflate it.
 */
export async function slowestLegacyVerifyMs(): Promise<number> {
  const salt = 'calibration';
  const worst = [
    `pbkdf2:sha256:${LEGACY_LIMITS.pbkdf2Iterations}$${salt}$${'0'.repeat(64)}`,
    // At both scrypt limits: 32 MiB and N·r·p = 2^18.
    `scrypt:32768:8:1$${salt}$${'0'.repeat(128)}`,
  ];
  let slowest = 0;
  for (const stored of worst) {
    let fastest = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 2; run++) {
      const started = performance.now();
      await verifyLegacyHash(stored, 'calibration password');
      fastest = Math.min(fastest, performance.now() - started);
    }
    slowest = Math.max(slowest, fastest);
  }
  return slowest;
}
