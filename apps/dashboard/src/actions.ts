import { ApiError } from '@api-users/sdk';
import { confirmAction } from './confirm.js';
import { h } from './dom.js';
import { describeError } from './forms.js';

/** Where an action says how it went: its result, or the API's error. */
export interface Outcome {
  element: HTMLElement;
  run(action: () => Promise<string | undefined>): Promise<void>;
}

export function outcome(): Outcome {
  const element = h('p', { class: 'outcome', role: 'status' });
  return {
    element,
    async run(action) {
      element.className = 'outcome';
      element.textContent = '';
      try {
        const said = await action();
        if (said !== undefined) {
          element.classList.add('success');
          element.textContent = said;
        }
      } catch (err) {
        element.classList.add('error');
        element.setAttribute('role', 'alert');
        // No form field to put them next to: the API's reasons follow its sentence.
        const reasons = err instanceof ApiError ? (err.issues ?? []).map((issue) => issue.message) : [];
        element.textContent = [describeError(err), ...reasons].join(' — ');
      }
    },
  };
}

/**
 * A button that asks first (`question`), then runs `action`; its result or error goes to `result`. The
 * button is disabled while the action runs.
 */
export function confirmedButton(
  label: string,
  question: string,
  result: Outcome,
  action: () => Promise<string | undefined>,
  className = 'danger',
): HTMLButtonElement {
  const button = h('button', { type: 'button', class: className }, label);
  button.addEventListener('click', async () => {
    if (!(await confirmAction(question, label))) return;
    button.disabled = true;
    try {
      await result.run(action);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
