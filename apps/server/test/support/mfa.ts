import { generate } from 'otplib';
import type { restClient } from './http.js';

const STEP_MS = 30_000;

/** The authenticator app's code for `secret` at `at` (epoch ms). */
export const totpCode = (secret: string, at: number): Promise<string> =>
  generate({ secret, epoch: Math.floor(at / 1000) });

/** How far behind real time a step clock starts: room for the steps a suite moves it on. */
const BEHIND_MS = 30 * 60_000;

/**
 * A clock for a server (AppOptions.clock) that moves only when told: the codes of a step either side of it are
 * then exact, never a race with a step boundary. Tokens are verified against real time, so it starts half an
 * hour behind (never ahead: a token stamped in the future is refused) and its server takes `settings`, access
 * tokens that live long enough to still be valid.
 */
export function stepClock() {
  let now = Date.now() - BEHIND_MS;
  return {
    now: () => now,
    settings: { ACCESS_TOKEN_TTL: '3600' },
    /** Moves on by `steps` time steps (fractions too). */
    advance(steps: number) {
      now += steps * STEP_MS;
      if (now > Date.now()) throw new Error('a step clock may not pass real time: its tokens would not verify');
    },
    /** The code of `secret` `steps` time steps from now. */
    code: (secret: string, steps = 0) => totpCode(secret, now + steps * STEP_MS),
  };
}

type Api = ReturnType<typeof restClient>;

/**
 * Turns on a second factor for the account of `token`: starts an enrolment, confirms it with the app's code
 * at `at`, and answers the secret and the recovery codes.
 */
export async function enrolTotp(api: Api, token: string, password: string, at = Date.now()) {
  const started = await api.call('POST', '/me/mfa/totp', { token });
  if (started.status !== 200) throw new Error(`start failed: ${started.status} ${JSON.stringify(started.body)}`);
  const secret: string = started.body.secret;
  const confirmed = await api.call('POST', '/me/mfa/totp/confirm', {
    token,
    json: { password, code: await totpCode(secret, at) },
  });
  if (confirmed.status !== 200)
    throw new Error(`confirm failed: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return { secret, recoveryCodes: confirmed.body.recovery_codes as string[] };
}

/** A sign-in through both steps, the second with `code`; answers the reply of the second. */
export async function signInWithCode(api: Api, login: string, password: string, code: string) {
  const first = await api.login(login, password);
  if (first.status !== 200 || !first.body.mfa_token) {
    throw new Error(`expected a challenge: ${first.status} ${JSON.stringify(first.body)}`);
  }
  return api.call('POST', '/login/mfa', { json: { mfa_token: first.body.mfa_token, code } });
}
