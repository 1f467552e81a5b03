import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';

type HmacAlgorithm = 'HS256' | 'HS512';
type Algorithm = 'EdDSA' | 'ES256' | HmacAlgorithm;

/** Where the signing and verification keys come from; parsed and checked by the configuration. */
export interface KeySettings {
  /** Signs every new token (Ed25519 or P-256); a secret given too then only verifies. */
  signingKey?: KeyObject;
  /** Public keys that still verify, e.g. the signing key before a rotation; published too. */
  verifyKeys: KeyObject[];
  /** HMAC secret: signs when there is no signing key (as before keys existed), otherwise only verifies. */
  secret?: string;
  /** HMAC secrets that still verify. */
  previousSecrets: string[];
  /** The algorithm of the HMAC secrets. */
  algorithm: HmacAlgorithm;
  /** Development with neither key nor secret: the Ed25519 key kept (or made) in this file signs. */
  developmentKeyFile?: string;
}

/** A key a token's `kid` names, with the one algorithm it verifies. */
interface VerificationKey {
  alg: Algorithm;
  /** As fast-jwt takes it: an SPKI PEM, or the HMAC secret. */
  key: string;
  /**
   * Found by the kid of tokens issued before asymmetric keys existed (a digest prefix of the secret): those
   * tokens are held to the rules they were issued under (typ JWT, no iss or aud) until they expire.
   */
  legacy: boolean;
}

export interface KeyRing {
  signing: { kid: string; alg: Algorithm; key: string };
  verification: ReadonlyMap<string, VerificationKey>;
  /** The public keys as a JWK set: never a private part, never a secret. */
  jwks: { keys: JWK[] };
  /** Set when the development key signs: its file, and whether this start made it. */
  developmentKey?: { path: string; created: boolean };
  /**
   * A secret of this deployment for keying digests (rate-limit counters), derived from the signing key or
   * secret: the same on every instance that signs alike, and nothing of the key can be learned from it.
   */
  derivedSecret(purpose: string): Buffer;
}

/** A key setting that cannot be used; the message never quotes the key. */
export class KeyError extends Error {}

const SUPPORTED = 'an Ed25519 (EdDSA) or P-256 (ES256) key';

function algorithmOf(key: KeyObject): 'EdDSA' | 'ES256' | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/** PEM given in one line with `\n` escapes, as .env files and some secret stores hold it. */
const unescapePem = (text: string) => text.trim().replaceAll('\\n', '\n');

function supported(key: KeyObject): KeyObject {
  if (!algorithmOf(key)) throw new KeyError(`must be ${SUPPORTED}`);
  return key;
}

/** A private key as PEM (PKCS#8, or SEC1 for P-256) or as a JWK. */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' })
      : createPrivateKey(unescapePem(trimmed));
  } catch {
    throw new KeyError(`not a private key as PEM or JWK (expected ${SUPPORTED})`);
  }
  return supported(key);
}

/**
 * Verify-only keys: a JWK set (`{"keys": [...]}`), a single JWK, or PEM blocks one after another. A private
 * key is accepted too (rotation can move the old signing key here as it is); only its public part is kept.
 */
export function parsePublicKeys(text: string): KeyObject[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let keys: KeyObject[];
  try {
    if (trimmed.startsWith('{')) {
      const json = JSON.parse(trimmed);
      const jwks: unknown[] = Array.isArray(json.keys) ? json.keys : [json];
      keys = jwks.map((jwk) => createPublicKey({ key: jwk as never, format: 'jwk' }));
    } else {
      const blocks = unescapePem(trimmed).match(/-----BEGIN [A-Z ]+-----[^-]+-----END [A-Z ]+-----/g) ?? [];
      if (blocks.length === 0) throw new Error('no PEM block');
      keys = blocks.map((pem) => createPublicKey(pem));
    }
  } catch {
    throw new KeyError(`not a JWK set, a JWK or PEM public keys (expected ${SUPPORTED} each)`);
  }
  return keys.map(supported);
}

/** The id of an HMAC secret: derived through HKDF, so it is stable across instances and says nothing of the secret. */
const hmacKid = (secret: string) =>
  Buffer.from(hkdfSync('sha256', secret, '', 'api-users jwt kid', 12)).toString('base64url');

/** The kid tokens got before this version: a SHA-256 prefix of the secret. Only ever looked up, never issued. */
const legacyHmacKid = (secret: string) => createHash('sha256').update(secret).digest('base64url').slice(0, 12);

/** An asymmetric key as the ring holds it: the kid is its RFC 7638 thumbprint, the same from PEM or JWK. */
async function describe(key: KeyObject) {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const alg = algorithmOf(publicKey) as 'EdDSA' | 'ES256';
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return {
    kid,
    alg,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: { ...jwk, kid, alg, use: 'sig' },
  };
}

/**
 * The Ed25519 key of a development server: read from `path`, or made there (mode 0600) on the first start.
 * Two servers starting at once agree on one key: the file is only ever created exclusively.
 */
/**
 * As ssh refuses an unprotected private key: a key file that another user could read (and sign tokens with)
 * or write (and put their own key in) is refused, as is one another user owns.
 */
function assertPrivateFile(path: string): void {
  const { mode, uid } = statSync(path);
  const owner = process.getuid?.();
  if ((mode & 0o077) !== 0 || (owner !== undefined && uid !== owner)) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new KeyError(
      `${path} is mode ${octal}${owner !== undefined && uid !== owner ? `, owned by uid ${uid}` : ''}: a private key ` +
        'must be readable and writable by its owner alone, this process (chmod 600 it, or delete it to make a new key)',
    );
  }
}

function developmentKey(path: string): { key: KeyObject; created: boolean } {
  const read = () => {
    assertPrivateFile(path);
    try {
      return parsePrivateKey(readFileSync(path, 'utf8'));
    } catch (err) {
      if (err instanceof KeyError) throw new KeyError(`${path}: ${err.message}; delete it to make a new key`);
      throw err;
    }
  };
  try {
    return { key: read(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: read(), created: false };
  }
  return { key: privateKey, created: true };
}

/** Every key of the settings, by kid; the signing key; and the public ones as a JWK set. */
export async function createKeyRing(settings: KeySettings): Promise<KeyRing> {
  const development = settings.developmentKeyFile ? developmentKey(settings.developmentKeyFile) : undefined;
  const signingKey = settings.signingKey ?? development?.key;
  const verification = new Map<string, VerificationKey>();
  const jwks: JWK[] = [];
  let signing: KeyRing['signing'] | undefined;

  const asymmetric = [...(signingKey ? [signingKey] : []), ...settings.verifyKeys];
  for (const [i, key] of asymmetric.entries()) {
    const { kid, alg, pem, jwk } = await describe(key);
    if (i === 0 && signingKey) {
      signing = { kid, alg, key: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
    }
    if (verification.has(kid)) continue;
    verification.set(kid, { alg, key: pem, legacy: false });
    jwks.push(jwk);
  }
  const secrets = [...(settings.secret ? [settings.secret] : []), ...settings.previousSecrets];
  for (const secret of secrets) {
    verification.set(hmacKid(secret), { alg: settings.algorithm, key: secret, legacy: false });
    verification.set(legacyHmacKid(secret), { alg: settings.algorithm, key: secret, legacy: true });
  }
  if (!signing && settings.secret) {
    signing = { kid: hmacKid(settings.secret), alg: settings.algorithm, key: settings.secret };
  }
  if (!signing) throw new KeyError('no signing key: set JWT_SIGNING_KEY or JWT_SECRET');
  const material = signing.key;
  return {
    signing,
    verification,
    jwks: { keys: jwks },
    derivedSecret: (purpose) => Buffer.from(hkdfSync('sha256', material, '', `api-users ${purpose}`, 32)),
    ...(development && settings.developmentKeyFile
      ? { developmentKey: { path: settings.developmentKeyFile, created: development.created } }
      : {}),
  };
}
