import { h } from './dom.js';

/**
 * Asks before an action that cannot be taken back, in a modal `<dialog>` (not `window.confirm`, which
 * blocks the page and cannot be styled). Resolves true when confirmed; Escape or Cancel resolve false.
 */
export function confirmAction(question: string, confirmLabel: string): Promise<boolean> {
  const dialog = h(
    'dialog',
    { class: 'confirm' },
    h(
      'form',
      { method: 'dialog' },
      h('p', {}, question),
      h(
        'div',
        { class: 'buttons' },
        h('button', { value: 'cancel', class: 'secondary' }, 'Cancel'),
        h('button', { value: 'confirm', class: 'danger' }, confirmLabel),
      ),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        resolve(dialog.returnValue === 'confirm');
        dialog.remove();
      },
      { once: true },
    );
  });
}
