import type { InputOf, OutputOf } from '@api-users/contract';
import {
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser';
import type { RestClient } from './rest-client.js';

/** The browser's answer, as the contract takes it (its outline is checked there, every part by the server). */
type Answer<K extends 'addPasskey' | 'loginPasskey'> = InputOf<K>['response'];

/**
 * Signs in with a passkey, in a browser: asks the server for a ceremony, lets the browser ask the user (the
 * passkeys it holds for this site, no login typed), and sends the answer back; the pair is stored like any
 * sign-in's. Given the `mfa_token` of a password sign-in that asked for a second factor, only that account's
 * passkeys are offered and the answer finishes that sign-in.
 */
export async function signInWithPasskey(
  api: RestClient,
  options: { mfa_token?: string } = {},
): Promise<OutputOf<'loginPasskey'>> {
  const begun = await api.auth.startPasskeySignIn(options.mfa_token === undefined ? {} : options);
  const response = await startAuthentication({
    // The server's options, as @simplewebauthn/server made them: the JSON this function reads.
    optionsJSON: begun.options as unknown as PublicKeyCredentialRequestOptionsJSON,
  });
  return api.auth.loginPasskey({
    ceremony_id: begun.ceremony_id,
    response: response as unknown as Answer<'loginPasskey'>,
  });
}

/**
 * Adds a passkey to the signed-in account, in a browser: the password (and, with an authenticator app on, a
 * code) first, then the browser makes the passkey, and the server keeps it.
 */
export async function registerPasskey(
  api: RestClient,
  input: InputOf<'startPasskeyRegistration'> & { name?: string },
): Promise<OutputOf<'addPasskey'>> {
  const { name, ...check } = input;
  const begun = await api.me.startPasskeyRegistration(check);
  const response = await startRegistration({
    optionsJSON: begun.options as unknown as PublicKeyCredentialCreationOptionsJSON,
  });
  return api.me.addPasskey({
    ceremony_id: begun.ceremony_id,
    response: response as unknown as Answer<'addPasskey'>,
    ...(name === undefined ? {} : { name }),
  });
}
