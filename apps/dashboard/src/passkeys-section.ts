import { type Passkey, registerPasskey } from '@api-users/sdk';
import { api } from './api.js';
import { h } from './dom.js';
import { codeOf, describeError, field, formatDate, formError, onSubmit, text } from './forms.js';
import { codeField, currentPasswordField } from './views.js';

/**
 * The signed-in account's passkeys: each with its name, when it was added and last used, renamed in place or
 * removed (the password first); and a form that adds one in this browser (the password first too).
 */
export function passkeysSection(): HTMLElement {
  const list = h('div', {});
  const said = h('p', { class: 'success', role: 'status' });
  const show = async (): Promise<void> => {
    try {
      const { items } = await api.me.passkeys();
      list.replaceChildren(
        items.length === 0
          ? h('p', { class: 'muted' }, 'No passkey yet.')
          : h('ul', { class: 'passkeys' }, ...items.map(item)),
      );
    } catch (err) {
      list.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err)));
    }
  };

  function item(passkey: Passkey): HTMLElement {
    const rename = h(
      'form',
      { class: 'inline', novalidate: true },
      field('Name', h('input', { name: 'name', value: passkey.name })),
      formError(),
      h('button', { type: 'submit', class: 'secondary' }, 'Rename'),
    );
    onSubmit(rename, async (data) => {
      const renamed = await api.me.renamePasskey({ id: passkey.id, name: text(data, 'name') });
      said.textContent = `Renamed to ${renamed.name}.`;
      await show();
    });
    const remove = h(
      'form',
      { class: 'inline', novalidate: true },
      currentPasswordField(),
      codeField('Code', 'With an authenticator app on'),
      formError(),
      h('button', { type: 'submit', class: 'danger' }, 'Remove'),
    );
    onSubmit(remove, async (data) => {
      await api.me.removePasskey({ id: passkey.id, password: text(data, 'password'), ...codeOf(data) });
      said.textContent = `${passkey.name} removed: it signs in no more.`;
      await show();
    });
    const used = passkey.last_used_at === null ? 'never used' : `last used ${formatDate(passkey.last_used_at)}`;
    return h(
      'li',
      { class: 'card passkey', 'data-passkey': passkey.id },
      h('strong', {}, passkey.name),
      h(
        'p',
        { class: 'muted' },
        `Added ${formatDate(passkey.created_at)}, ${used}${passkey.device_type === 'multiDevice' ? ', synced' : ''}.`,
      ),
      rename,
      remove,
    );
  }

  const add = h(
    'form',
    { class: 'card add-passkey', novalidate: true },
    field('Name', h('input', { name: 'name', placeholder: 'This laptop' })),
    currentPasswordField(),
    codeField('Code', 'With an authenticator app on'),
    formError(),
    h('button', { type: 'submit' }, 'Add a passkey'),
  );
  onSubmit(add, async (data) => {
    said.textContent = '';
    const name = text(data, 'name');
    const passkey = await registerPasskey(api, {
      password: text(data, 'password'),
      ...codeOf(data),
      ...(name === '' ? {} : { name }),
    });
    add.reset();
    said.textContent = `${passkey.name} added: it signs you in, alone or after your password.`;
    await show();
  });
  void show();
  return h('div', {}, list, said, add);
}
