import { confirmedButton, type Outcome, outcome } from './actions.js';
import { api } from './api.js';
import { h } from './dom.js';
import { describeError, field, formatDate, formError, onSubmit, text } from './forms.js';

type Endpoint = Awaited<ReturnType<typeof api.webhooks.list>>['items'][number];

/** A secret as it is shown, once: to copy into the receiver now. */
const secretNotice = (what: string, secret: string) =>
  h(
    'div',
    { class: 'card secret-once', role: 'status' },
    h('p', { class: 'notice' }, `${what} Copy it into the receiver now: it is not shown again.`),
    h('code', { class: 'secret' }, secret),
  );

/** An endpoint's delivery log, newest first, each with "Send again". */
async function deliveries(endpoint: Endpoint, result: Outcome): Promise<HTMLElement> {
  const { items } = await api.webhooks.deliveries({ id: endpoint.id, limit: 20 });
  if (items.length === 0) return h('p', { class: 'muted' }, 'Nothing sent yet.');
  return h(
    'table',
    { class: 'deliveries' },
    h(
      'thead',
      {},
      h('tr', {}, ...['Event', 'Status', 'Attempts', 'Last answer', 'Next try', ''].map((t) => h('th', {}, t))),
    ),
    h(
      'tbody',
      {},
      ...items.map((d) =>
        h(
          'tr',
          { 'data-delivery': d.id },
          h('td', {}, h('code', {}, d.event_type), h('br'), h('small', { class: 'muted' }, formatDate(d.created_at))),
          h('td', {}, h('span', { class: `badge ${d.status}` }, d.status)),
          h('td', {}, String(d.attempts)),
          h(
            'td',
            {},
            d.last_error ?? (d.last_status === null ? '—' : `HTTP ${d.last_status}`),
            d.last_latency_ms === null ? '' : ` (${d.last_latency_ms} ms)`,
          ),
          h('td', {}, d.next_attempt_at === null ? '—' : formatDate(d.next_attempt_at)),
          h(
            'td',
            {},
            confirmedButton(
              'Send again',
              'Send this event to the endpoint again (same webhook-id)?',
              result,
              async () => {
                await api.webhooks.redeliver({ id: endpoint.id, delivery: d.id });
                return 'Queued again.';
              },
              'secondary',
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * Webhook endpoints (admins): add one (its secret shown once), and for each: a test event, enable or disable,
 * a new secret, removal, and its delivery log.
 */
export function webhooksView(): HTMLElement {
  const list = h('div', {});
  const shown = h('div', {});
  const result = outcome();

  const show = async (): Promise<void> => {
    try {
      const { items } = await api.webhooks.list();
      const cards = await Promise.all(items.map(async (endpoint) => card(endpoint)));
      list.replaceChildren(...(cards.length === 0 ? [h('p', { class: 'muted' }, 'No endpoint yet.')] : cards));
    } catch (err) {
      list.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err)));
    }
  };

  async function card(endpoint: Endpoint): Promise<HTMLElement> {
    const act = (label: string, question: string, action: () => Promise<string | undefined>, className = 'secondary') =>
      confirmedButton(
        label,
        question,
        result,
        async () => {
          const said = await action();
          await show();
          return said;
        },
        className,
      );
    return h(
      'section',
      { class: 'card webhook', 'data-webhook': endpoint.id },
      h('h2', {}, h('code', {}, endpoint.url)),
      h(
        'p',
        { class: 'muted' },
        `${endpoint.enabled ? 'Enabled' : 'Disabled'} · ${endpoint.event_types.join(', ')}`,
        endpoint.description ? ` · ${endpoint.description}` : '',
      ),
      h(
        'div',
        { class: 'actions' },
        act(
          'Send a test event',
          'Send a webhook.test event to this endpoint?',
          async () => (await api.webhooks.test({ id: endpoint.id })).msg,
        ),
        act(
          endpoint.enabled ? 'Disable' : 'Enable',
          endpoint.enabled ? 'Stop sending new events here?' : 'Send events here again?',
          async () => {
            await api.webhooks.update({ id: endpoint.id, enabled: !endpoint.enabled });
            return endpoint.enabled ? 'Disabled.' : 'Enabled.';
          },
        ),
        act('New secret', 'Make a new signing secret? The old one keeps signing beside it for a day.', async () => {
          const { secret } = await api.webhooks.rotateSecret({ id: endpoint.id });
          shown.replaceChildren(secretNotice('The new signing secret.', secret));
          return undefined;
        }),
        act(
          'Remove',
          'Remove this endpoint and its pending deliveries?',
          async () => (await api.webhooks.remove({ id: endpoint.id })).msg,
          'danger',
        ),
      ),
      await deliveries(endpoint, result).catch((err: unknown) => h('p', { class: 'error' }, describeError(err))),
    );
  }

  const form = h(
    'form',
    { class: 'card add-webhook', novalidate: true },
    field('URL', h('input', { name: 'url', type: 'url', placeholder: 'https://service.example.com/hooks' })),
    field(
      'Event types',
      h('input', { name: 'event_types', value: '*' }),
      'Comma-separated (user.created, session.ended, …), or * for all',
    ),
    field('Description', h('input', { name: 'description' })),
    formError(),
    h('button', { type: 'submit' }, 'Add the endpoint'),
  );
  onSubmit(form, async (data) => {
    const types = text(data, 'event_types')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const created = await api.webhooks.create({
      url: text(data, 'url'),
      // The API checks each name and answers which is not one.
      event_types: types as Parameters<typeof api.webhooks.create>[0]['event_types'],
      description: text(data, 'description'),
    });
    form.reset();
    shown.replaceChildren(secretNotice(`Added ${created.url}. Its signing secret:`, created.secret));
    await show();
  });
  void show();
  return h('section', {}, h('h1', {}, 'Webhooks'), form, shown, result.element, list);
}
