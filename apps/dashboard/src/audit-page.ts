import { type AuditEvent, type AuditEventType, auditEventTypes } from '@api-users/sdk';
import { api } from './api.js';
import { h } from './dom.js';
import { formatDate, text } from './forms.js';
import { pagedList } from './paged-list.js';

const PAGE_SIZE = 50;

const person = (id: number | null) => (id === null ? '—' : h('a', { href: `#/users/${id}` }, `#${id}`));

const eventRow = (event: AuditEvent): HTMLTableRowElement =>
  h(
    'tr',
    {},
    h('td', {}, formatDate(event.at)),
    h('td', {}, h('code', {}, event.type), event.detail ? ` ${event.detail}` : ''),
    h('td', {}, person(event.actor_id)),
    h('td', {}, person(event.target_id)),
    h('td', {}, event.client_address ?? '—', h('br'), h('small', { class: 'muted' }, event.user_agent ?? '')),
  );

/** The audit log, newest first, a page at a time, filtered by type, actor and target. */
export function auditView(): HTMLElement {
  const idInput = (name: string, label: string) =>
    h('input', { name, type: 'number', min: 1, placeholder: label, 'aria-label': label });
  const filters = h(
    'form',
    { class: 'filters' },
    h(
      'select',
      { name: 'type', 'aria-label': 'Type' },
      h('option', { value: '' }, 'every type'),
      ...auditEventTypes.map((type) => h('option', { value: type }, type)),
    ),
    idInput('actor_id', 'Actor id'),
    idInput('target_id', 'Target id'),
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'),
  );
  const { rows, failure, more } = pagedList({
    filters,
    queryOf: (data): { type?: AuditEventType; actor_id?: number; target_id?: number } => {
      const type = auditEventTypes.find((known) => known === text(data, 'type'));
      const actor = Number(text(data, 'actor_id'));
      const target = Number(text(data, 'target_id'));
      return {
        ...(type ? { type } : {}),
        ...(actor > 0 ? { actor_id: actor } : {}),
        ...(target > 0 ? { target_id: target } : {}),
      };
    },
    fetchPage: (query, cursor) => api.audit.list({ limit: PAGE_SIZE, cursor, ...query }),
    row: eventRow,
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Audit log'),
    filters,
    h(
      'table',
      { class: 'audit' },
      h('thead', {}, h('tr', {}, ...['When', 'Event', 'Actor', 'Target', 'From'].map((title) => h('th', {}, title)))),
      rows,
    ),
    failure,
    more,
  );
}
