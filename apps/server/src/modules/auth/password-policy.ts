import { readFileSync } from 'node:fs';
import { AppError } from '../../errors.js';

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

/** Length is the contract's rule (8–128); this adds what needs the list. */
export function assertAcceptablePassword(password: string): void {
  if (commonPasswords().has(password.toLowerCase())) {
    throw new AppError('VALIDATION_FAILED', 'The request is not valid', [
      { path: 'password', message: 'This password is one of the most commonly used; choose another' },
    ]);
  }
}
