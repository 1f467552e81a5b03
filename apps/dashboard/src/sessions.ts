import type { Session } from '@api-users/sdk';
import Bowser from 'bowser';
import { confirmedButton, type Outcome } from './actions.js';
import { h } from './dom.js';
import { formatDate } from './forms.js';

/** "Firefox 133 on Linux" from a User-Agent header (bowser's parser), the whole header as its tooltip. */
export function deviceName(agent: string | null): string {
  if (!agent) return 'unknown device';
  const { browser, os } = Bowser.parse(agent);
  const name = [browser.name, browser.version?.split('.')[0]].filter(Boolean).join(' ');
  if (!name) return agent.length > 40 ? `${agent.slice(0, 40)}…` : agent;
  return os.name ? `${name} on ${os.name}` : name;
}

const device = (agent: string | null, address: string | null) =>
  h('span', { title: agent ?? '' }, deviceName(agent), h('br'), h('small', { class: 'muted' }, address ?? ''));

/**
 * A table of sessions (devices signed in), newest first, each with an "End" button (confirmed) unless it is
 * the session of this tab; `end` ends one and says what happened.
 */
export function sessionsTable(
  sessions: Session[],
  result: Outcome,
  end: (session: Session) => Promise<string | undefined>,
): HTMLElement {
  if (sessions.length === 0) return h('p', { class: 'muted sessions-empty' }, 'No live session.');
  return h(
    'table',
    { class: 'sessions' },
    h(
      'thead',
      {},
      h('tr', {}, ...['Signed in', 'Device', 'Last renewed', 'Expires', ''].map((title) => h('th', {}, title))),
    ),
    h(
      'tbody',
      {},
      ...sessions.map((session) =>
        h(
          'tr',
          { 'data-session': session.id },
          h('td', {}, formatDate(session.created_at)),
          h('td', {}, device(session.user_agent, session.client_address)),
          h(
            'td',
            {},
            session.refreshed_at === null
              ? '—'
              : h(
                  'span',
                  {},
                  formatDate(session.refreshed_at),
                  h('br'),
                  device(session.refreshed_user_agent, session.refreshed_client_address),
                ),
          ),
          h('td', {}, formatDate(session.expires_at)),
          h(
            'td',
            {},
            session.current
              ? h('span', { class: 'badge' }, 'this tab')
              : confirmedButton('End', 'End this session? Its device is signed out at once.', result, () =>
                  end(session),
                ),
          ),
        ),
      ),
    ),
  );
}
