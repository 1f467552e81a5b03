import { h } from './dom.js';
import { describeError } from './forms.js';

interface Page<Item> {
  items: Item[];
  next_cursor: string | null;
}

/**
 * The rows of a keyset-paged list with a filter form: "Load more" asks for the page after the last cursor,
 * and submitting the filters starts the list again with the query `queryOf` reads from them.
 */
export function pagedList<Query, Item>(options: {
  filters: HTMLFormElement;
  /** May look things up (a login's account, say): a refusal is shown as the list's failure. */
  queryOf: (data: FormData) => Query | Promise<Query>;
  fetchPage: (query: Query, cursor: string | null) => Promise<Page<Item>>;
  row: (item: Item) => HTMLTableRowElement;
  onLoaded?: (shown: number) => void;
}): { rows: HTMLTableSectionElement; failure: HTMLElement; more: HTMLButtonElement } {
  const rows = h('tbody');
  const failure = h('p', { class: 'error', role: 'alert' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  let cursor: string | null = null;
  let query: Query | Promise<Query> = options.queryOf(new FormData(options.filters));

  async function load(): Promise<void> {
    more.disabled = true;
    failure.textContent = '';
    try {
      const page = await options.fetchPage(await query, cursor);
      rows.append(...page.items.map(options.row));
      options.onLoaded?.(rows.rows.length);
      cursor = page.next_cursor;
      more.hidden = cursor === null;
    } catch (err) {
      failure.textContent = describeError(err);
    } finally {
      more.disabled = false;
    }
  }
  options.filters.addEventListener('submit', (event) => {
    event.preventDefault();
    query = options.queryOf(new FormData(options.filters));
    rows.replaceChildren();
    cursor = null;
    void load();
  });
  more.addEventListener('click', () => void load());
  void load();
  return { rows, failure, more };
}
