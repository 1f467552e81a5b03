import { randomInt } from 'node:crypto';
import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';
import { digestOf } from '../opaque-tokens.js';

const COUNT = 10;
/** Base32's letters (RFC 4648, lower case): no 0/o or 1/l to misread from paper. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** 16 characters of 32: 80 random bits, so a SHA-256 of each is all the database needs to keep. */
function newCode(): string {
  const chars = Array.from({ length: 16 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return chars.match(/.{4}/g)?.join('-') ?? chars;
}

/** A code as typed, as it is stored: without its hyphens (the contract has dropped them and lower-cased it). */
const digestOfCode = (code: string) => digestOf(code.replaceAll('-', ''));

/** Replaces every recovery code of the account with ten new ones: the old stop at once. Answers the new ones. */
export async function replaceRecoveryCodes(db: Kysely<Database>, userId: number): Promise<string[]> {
  const codes = Array.from({ length: COUNT }, newCode);
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('recovery_codes')
    .values(codes.map((code) => ({ user_id: userId, code_digest: digestOfCode(code), used_at: null })))
    .execute();
  return codes;
}

/** Spends one unused recovery code of the account (one conditional UPDATE: once only); whether it was one. */
export async function spendRecoveryCode(db: Kysely<Database>, userId: number, code: string, now: number) {
  const spent = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_digest', '=', digestOfCode(code))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return spent.numUpdatedRows === 1n;
}

export async function recoveryCodesLeft(db: Kysely<Database>, userId: number): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('left'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.left);
}
