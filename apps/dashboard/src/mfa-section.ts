import { api } from './api.js';
import { h } from './dom.js';
import { describeError, formError, onSubmit, text } from './forms.js';
import { CODE_HINT, codeField, currentPasswordField } from './views.js';

/** Recovery codes as shown once: a list to copy or print, with what they are for. */
function recoveryCodes(codes: string[]): HTMLElement {
  return h(
    'div',
    { class: 'card recovery-codes' },
    h(
      'p',
      { class: 'notice', role: 'status' },
      'Your recovery codes. Keep them somewhere safe: each signs you in once instead of a code from the app, ' +
        'and they are not shown again.',
    ),
    h('ol', {}, ...codes.map((code) => h('li', {}, h('code', {}, code)))),
  );
}

/**
 * The second factor of the signed-in account: enrol an authenticator app (QR code, then a code and the password
 * to confirm it), and once it is on, new recovery codes or turning it off (password and code each time).
 */
export function mfaSection(): HTMLElement {
  const part = h('div', {});
  const show = async (shown?: HTMLElement): Promise<void> => {
    try {
      const status = await api.me.mfa();
      part.replaceChildren(...(status.totp ? enabled(status.recovery_codes_left) : disabled()), shown ?? '');
    } catch (err) {
      part.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err)));
    }
  };

  function disabled(): HTMLElement[] {
    const start = h('button', { type: 'button' }, 'Set up an authenticator app');
    const result = h('p', { class: 'error', role: 'alert' });
    start.addEventListener('click', async () => {
      start.disabled = true;
      try {
        part.replaceChildren(enrolment(await api.me.startTotp()));
      } catch (err) {
        result.textContent = describeError(err);
        start.disabled = false;
      }
    });
    return [h('p', {}, 'Off: signing in takes your password alone.'), start, result];
  }

  function enrolment(totp: { secret: string; qr_svg: string }): HTMLElement {
    // As an image, not markup: nothing in it can run or style the page.
    const qr = h('img', {
      class: 'qr',
      alt: 'QR code of the authenticator secret',
      src: `data:image/svg+xml;base64,${btoa(totp.qr_svg)}`,
    });
    const form = h(
      'form',
      { class: 'card', novalidate: true },
      h('p', {}, 'Scan this code with an authenticator app, or type the secret into it:'),
      qr,
      h('p', {}, h('code', { class: 'secret' }, totp.secret)),
      codeField('Code from the app', 'The six digits the app shows now'),
      currentPasswordField(),
      formError(),
      h('button', { type: 'submit' }, 'Turn on'),
    );
    onSubmit(form, async (data) => {
      const { recovery_codes } = await api.me.confirmTotp({
        password: text(data, 'password'),
        code: text(data, 'code'),
      });
      await show(recoveryCodes(recovery_codes));
    });
    return form;
  }

  /** A form that asks for the password and a code again before `action`. */
  function reauthenticated(
    label: string,
    className: string,
    action: (password: string, code: string) => Promise<void>,
  ) {
    const form = h(
      'form',
      { class: 'card', novalidate: true },
      currentPasswordField(),
      codeField('Code', CODE_HINT),
      formError(),
      h('button', { type: 'submit', class: className }, label),
    );
    onSubmit(form, (data) => action(text(data, 'password'), text(data, 'code')));
    return form;
  }

  function enabled(left: number): HTMLElement[] {
    return [
      h('p', {}, `On: signing in asks for a code. ${left} recovery code${left === 1 ? '' : 's'} left.`),
      h('h3', {}, 'New recovery codes'),
      reauthenticated('New recovery codes', 'secondary', async (password, code) => {
        const { recovery_codes } = await api.me.regenerateRecoveryCodes({ password, code });
        await show(recoveryCodes(recovery_codes));
      }),
      h('h3', {}, 'Turn off'),
      reauthenticated('Turn off', 'danger', async (password, code) => {
        await api.me.disableMfa({ password, code });
        await show(h('p', { class: 'success', role: 'status' }, 'Authenticator app turned off.'));
      }),
    ];
  }

  void show();
  return part;
}
