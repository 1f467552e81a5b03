import { readFileSync } from 'node:fs';
import { refuse } from '../../core/errors.js';

/** Shipped beside src/ and dist/ alike: ../../../assets from either. */
const LIST_URL = new URL('../../../assets/common-passwords.txt', import.meta.url);

let common: Set<string> | undefined;

/** The shipped list of the 10,000 most common passwords, read once on first use. */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(LIST_URL, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  return common;
}

/** Longest block whose repetition counts as a repetitive password (`abcabcab`, `12341234`). */
const MAX_REPEATED_BLOCK = 4;

/** True when the password is one block of a few characters repeated (`aaaaaaaa`, `abababab`, `abcabcab`). */
function isRepetitive(chars: number[]): boolean {
  for (let block = 1; block <= MAX_REPEATED_BLOCK && block < chars.length; block++) {
    if (chars.every((c, i) => i < block || c === chars[i - block])) return true;
  }
  return false;
}

/**
 * True when the password is a run of consecutive characters, up or down (`abcdefgh`, `12345678`,
 * `87654321`), or two such runs back to back (`1234abcd`, NIST's own example).
 */
function isSequential(chars: number[]): boolean {
  let runs = 1;
  for (let i = 1; i < chars.length; i++) {
    const step = (chars[i] as number) - (chars[i - 1] as number);
    const previous = i > 1 ? (chars[i - 1] as number) - (chars[i - 2] as number) : step;
    // A new run starts where the step is not ±1, or turns round (`abcba`).
    if (Math.abs(step) !== 1 || (Math.abs(previous) === 1 && step !== previous)) runs++;
  }
  return runs <= 2;
}

/** What a new password is checked against besides the lists: the account's login, the password it replaces. */
export interface PasswordContext {
  /** The account's login (stored folded to lower case). */
  login: string;
  /** The password being changed, where the owner gave it. */
  current?: string;
}

/**
 * Length is the contract's rule (8–128); this adds NIST SP 800-63B's other checks of a new password: not a
 * commonly used one, not repetitive or sequential characters, not the account's login (a context-specific
 * word), not the password it replaces. Case does not count. `field` is the input field the password came in,
 * which a refusal names.
 */
export function assertAcceptablePassword(password: string, field: string, context: PasswordContext): void {
  const refuseAs = (message: string) => refuse('invalidRequest', [{ path: field, message }]);
  const lower = password.toLowerCase();
  if (context.current !== undefined && password === context.current) {
    throw refuseAs('The new password is the current one; choose another');
  }
  if (lower === context.login) throw refuseAs('The password must not be the login; choose another');
  if (commonPasswords().has(lower)) {
    throw refuseAs('This password is one of the most commonly used; choose another');
  }
  const chars = Array.from(lower, (c) => c.codePointAt(0) as number);
  if (isRepetitive(chars) || isSequential(chars)) {
    throw refuseAs('This password is a repeated or sequential pattern (like aaaaaaaa or 12345678); choose another');
  }
}
