import { generateSecret, generateURI, verify } from 'otplib';
import { renderSVG } from 'uqr';

/** RFC 6238 as every authenticator app reads it by default: SHA-1, 6 digits, 30-second steps. */
const STEP_SECONDS = 30;

/** A new secret for `label`'s authenticator app, the otpauth:// URI that carries it, and that URI as a QR code. */
export function newTotp(issuer: string, label: string): { secret: string; otpauth_uri: string; qr_svg: string } {
  const secret = generateSecret();
  const otpauth_uri = generateURI({ issuer, label, secret });
  return { secret, otpauth_uri, qr_svg: renderSVG(otpauth_uri) };
}

/**
 * The time step of `code` when it is a code of `secret` at `nowMs`, one step of clock skew either way, and later
 * than `after` (the last step accepted: a code is good once); else null.
 */
export async function totpStep(
  secret: string,
  code: string,
  nowMs: number,
  after: number | null,
): Promise<number | null> {
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: STEP_SECONDS,
    ...(after === null ? {} : { afterTimeStep: Number(after) }),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
