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
