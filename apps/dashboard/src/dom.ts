/** What `h` takes as children: nodes, text, and nothing (null, undefined, false) for conditional parts. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes by name (`true` sets an empty one, `false` or undefined leaves it out); `on…` functions are listeners. */
export type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/**
 * Builds an element: `h('a', { href: '#/users' }, 'Users')`. Text goes in as text nodes, never as HTML,
 * so what users typed (names, logins) cannot inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(typeof child === 'number' ? String(child) : child);
    }
  }
  return element;
}
