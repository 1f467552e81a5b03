/**
 * A keyset page from rows fetched with `LIMIT limit + 1`: the extra row, if any, only says there is a next
 * page, whose cursor is the last row shown.
 */
export function pageOf<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorOf: (row: Row) => string,
): { items: Item[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toItem), next_cursor: rows.length > limit && last ? cursorOf(last) : null };
}
