/**
 * The token pair of a sign-in to an account without a second factor (what most tests sign in to); a sign-in
 * that asked for a code instead fails the test.
 */
export function pairOf<T extends object>(signIn: T): Exclude<T, { mfa_required: true }> {
  if ('mfa_required' in signIn) throw new Error('The sign-in asked for a second factor');
  return signIn as Exclude<T, { mfa_required: true }>;
}
