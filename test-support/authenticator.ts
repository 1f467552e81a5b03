import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software WebAuthn authenticator for tests over HTTP: it answers the options the server sends as a browser
 * with a platform authenticator would (`none` attestation, an ES256 key, user verified), so the server checks
 * real signatures. Browser tests use Chromium's own virtual authenticator instead.
 */
const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 };

interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  userHandle: string;
  counter: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the options are the server's JSON, read as a browser reads them
type Options = Record<string, any>;

export interface AuthenticatorOptions {
  /** The page the browser says the call came from. */
  origin?: string;
  /** A synced passkey (backup eligible and backed up) rather than one bound to this authenticator. */
  synced?: boolean;
}

export function softwareAuthenticator({ origin = 'http://localhost:5000', synced = false }: AuthenticatorOptions = {}) {
  const credentials: Credential[] = [];
  const backup = synced ? FLAGS.BE | FLAGS.BS : 0;
  const clientData = (type: string, challenge: string) =>
    Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  const counterBytes = (n: number) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(n);
    return bytes;
  };

  return {
    credentials,
    /** navigator.credentials.create(): a new resident key for the options' user. */
    register(options: Options) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const coseKey = new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]);
      const id = randomBytes(16);
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(id.length);
      const authData = Buffer.concat([
        sha256(options.rp.id),
        Buffer.from([FLAGS.UP | FLAGS.UV | FLAGS.AT | backup]),
        counterBytes(0),
        Buffer.alloc(16),
        idLength,
        id,
        Buffer.from(isoCBOR.encode(coseKey)),
      ]);
      const attestation = new Map<string, string | Uint8Array | Map<string, string>>();
      attestation.set('fmt', 'none');
      attestation.set('attStmt', new Map<string, string>());
      attestation.set('authData', authData);
      const attestationObject = isoCBOR.encode(attestation);
      credentials.push({ id, privateKey, userHandle: options.user.id, counter: 0 });
      return {
        id: b64url(id),
        rawId: b64url(id),
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientData('webauthn.create', options.challenge)),
          attestationObject: b64url(attestationObject),
          transports: ['internal'],
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
    /**
     * navigator.credentials.get(): signs the challenge with the first allowed credential (any, for a
     * discoverable sign-in), its counter one higher.
     */
    authenticate(options: Options, rpId = 'localhost') {
      const allowed: string[] = (options.allowCredentials ?? []).map((c: { id: string }) => c.id);
      const credential = credentials.find((c) => allowed.length === 0 || allowed.includes(b64url(c.id)));
      if (!credential) throw new Error('no credential of this authenticator is allowed');
      credential.counter += 1;
      const authData = Buffer.concat([
        sha256(rpId),
        Buffer.from([FLAGS.UP | FLAGS.UV | backup]),
        counterBytes(credential.counter),
      ]);
      const data = clientData('webauthn.get', options.challenge);
      const signature = sign('sha256', Buffer.concat([authData, sha256(data)]), credential.privateKey);
      return {
        id: b64url(credential.id),
        rawId: b64url(credential.id),
        type: 'public-key',
        response: {
          clientDataJSON: b64url(data),
          authenticatorData: b64url(authData),
          signature: b64url(signature),
          userHandle: credential.userHandle,
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },
    /** Another authenticator holding copies of these keys, counters included: a clone (synced or not, as told). */
    clone(options: { synced?: boolean } = {}) {
      const copy = softwareAuthenticator({ origin, synced: options.synced ?? synced });
      copy.credentials.push(...credentials.map((c) => ({ ...c })));
      return copy;
    },
  };
}
