import { createHash, randomBytes } from 'node:crypto';

/**
 * Tokens that only this service reads, so no JWT that a resource server could be fooled into accepting:
 * `<prefix><row id>.<secret>`, the secret 32 random bytes (base64url). The row keeps only the SHA-256 of the
 * secret (its digest), so a copy of the database redeems nothing. Each kind has its own prefix (refresh tokens
 * none), so one kind is never read as another.
 */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export const digestOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new token for the row `id`, and the digest the row keeps. */
export function newOpaqueToken(id: string, prefix: string): { token: string; digest: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `${prefix}${id}.${secret}`, digest: digestOf(secret) };
}

/** Reads tokens of one prefix: the row id a token names and its digest; undefined for anything else. */
export function opaqueTokenReader(prefix: string): (token: string) => { id: string; digest: string } | undefined {
  const shape = new RegExp(`^${prefix.replaceAll('.', '\\.')}(${UUID})\\.([A-Za-z0-9_-]{43})$`);
  return (token) => {
    const match = shape.exec(token);
    return match ? { id: match[1] as string, digest: digestOf(match[2] as string) } : undefined;
  };
}
