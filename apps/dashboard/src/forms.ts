import { ApiError, type UserRole } from '@api-users/sdk';
import { h } from './dom.js';

export const roleName = (role: UserRole): string => (role === 1 ? 'admin' : 'user');

export const roleBadge = (role: UserRole): HTMLElement =>
  h('span', { class: `badge ${roleName(role)}` }, roleName(role));

export const statusBadge = (disabled: boolean): HTMLElement =>
  h('span', { class: `badge ${disabled ? 'disabled' : 'enabled'}` }, disabled ? 'disabled' : 'enabled');

export const formatDate = (iso: string): string =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** One readable line for any failure: the API's sentence with its status and code, or the error's message. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? err.msg : `${err.msg} (${err.status} ${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** The field an error is about when the API names none (no `issues`): the one the user should change. */
const FIELD_OF_CODE: Partial<Record<ApiError['code'], string>> = { LOGIN_TAKEN: 'login', FORBIDDEN: 'user_role' };

/** A labelled control and, under it, the place for its error; `name` is the API's field (an issue's path). */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  return h(
    'label',
    {},
    label,
    control,
    hint !== undefined && h('small', { class: 'hint' }, hint),
    h('small', { class: 'error', 'data-error-for': control.name, role: 'alert' }),
  );
}

/** The place for errors that concern the whole form (bad credentials, network), next to its button. */
export const formError = (): HTMLElement => h('p', { class: 'error', 'data-error-for': '', role: 'alert' });

/** Shows `err` next to the fields it is about, else next to the form's button. */
function showError(form: HTMLFormElement, err: unknown): void {
  clearErrors(form);
  const fieldOfCode = err instanceof ApiError ? FIELD_OF_CODE[err.code] : undefined;
  const placed: [path: string, message: string][] =
    err instanceof ApiError && err.issues
      ? err.issues.map((issue) => [issue.path, issue.message])
      : [[fieldOfCode ?? '', describeError(err)]];
  for (const [path, message] of placed) {
    const slot =
      form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(path)}"]`) ??
      form.querySelector<HTMLElement>('[data-error-for=""]');
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    const control = form.elements.namedItem(path);
    if (control instanceof Element) control.setAttribute('aria-invalid', 'true');
  }
}

function clearErrors(form: HTMLFormElement): void {
  for (const slot of form.querySelectorAll('[data-error-for]')) slot.textContent = '';
  for (const invalid of form.querySelectorAll('[aria-invalid]')) invalid.removeAttribute('aria-invalid');
}

/** Runs `action` for a submit, with the button disabled meanwhile and any failure shown by `showError`. */
export function onSubmit(form: HTMLFormElement, action: (data: FormData) => Promise<void>): void {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button?.setAttribute('disabled', '');
    clearErrors(form);
    try {
      await action(new FormData(form));
    } catch (err) {
      showError(form, err);
    } finally {
      button?.removeAttribute('disabled');
    }
  });
}

/** A form field's text: FormData gives File for file inputs, which these forms do not have. */
export const text = (data: FormData, name: string): string => String(data.get(name) ?? '');

/** The code field of a password check: sent only when filled (needed only with an authenticator app on). */
export const codeOf = (data: FormData): { code?: string } => {
  const code = text(data, 'code');
  return code === '' ? {} : { code };
};
