import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DeviceTokens } from '../../core/context.js';

const SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * OWASP's device cookies: `<device id>.<HMAC-SHA-256 of the login and the id>` under a secret of the deployment
 * (derived from the signing key, as every instance has it). Nothing is stored: a token proves only that this
 * client signed in to this login before, which is all the rate limiter asks.
 */
export function createDeviceTokens(secret: Buffer): DeviceTokens {
  const mac = (login: string, device: string) => createHmac('sha256', secret).update(`${login}\0${device}`).digest();
  return {
    issue(login) {
      const device = randomBytes(16).toString('base64url');
      return `${device}.${mac(login, device).toString('base64url')}`;
    },
    verify(login, token) {
      const match = SHAPE.exec(token);
      if (!match) return undefined;
      const [, device = '', signature = ''] = match;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(login, device);
      return given.length === expected.length && timingSafeEqual(given, expected) ? device : undefined;
    },
  };
}
