import { foldText } from '@api-users/contract';

/** Characters kept of a folded name: its column's length (a fold may be longer than the name). */
const SEARCH_COLUMN_LENGTH = 255;

/**
 * The value of `users.user_name_search`: the name folded as searches fold their query, so a case-insensitive
 * search is a plain comparison on MySQL (binary collation) and SQLite (ASCII-only `lower`) alike.
 * Cut by code points, so no surrogate pair is split.
 */
export const nameForSearch = (userName: string): string =>
  Array.from(foldText(userName)).slice(0, SEARCH_COLUMN_LENGTH).join('');

/** The code point after `c` in UTF-8's order, skipping the surrogates (no UTF-8 text holds one). */
const nextCodePoint = (c: number): number => (c === 0xd7ff ? 0xe000 : c + 1);

/**
 * The texts that start with `prefix`, as a range in code-point order: from the prefix itself up to (not
 * including) the prefix with its last code point one higher. A B-tree index in that order serves it (LIKE would
 * need escaping, and PostgreSQL indexes LIKE only in "C" order). `to` is undefined when no text is above the
 * range (a prefix of U+10FFFF only).
 */
export function prefixRange(prefix: string): { from: string; to: string | undefined } {
  const codePoints = Array.from(prefix, (c) => c.codePointAt(0) as number);
  while (codePoints.length > 0 && codePoints.at(-1) === 0x10ffff) codePoints.pop();
  const last = codePoints.pop();
  return {
    from: prefix,
    to: last === undefined ? undefined : String.fromCodePoint(...codePoints, nextCodePoint(last)),
  };
}
