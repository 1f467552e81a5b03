import type { MailMessage } from '../../core/context.js';

/** A mail as it is sent: its subject, the plain text, the same as HTML, and the link it carries (if any). */
export interface ComposedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  link?: string;
}

export interface MailSite {
  productName: string;
  /** Where the dashboard is served: its pages take the links' tokens. */
  publicUrl: string;
}

/** HTML-escapes what a mail shows: the address the user typed goes into it, and must stay text. */
const htmlText = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const when = (ms: number) => new Date(ms).toUTCString();

/**
 * The link's token travels in the fragment (`#/reset?token=…`): a browser sends no fragment to any server, so
 * the token is in no access log and no Referer on the way.
 */
const linkTo = (site: MailSite, page: string, token: string) =>
  `${site.publicUrl}/dashboard/#/${page}?token=${encodeURIComponent(token)}`;

function withLink(site: MailSite, to: string, subject: string, lead: string, link: string, expiresAt: number) {
  const name = site.productName;
  const text = `${lead}\n\n${link}\n\nThe link works once, until ${when(expiresAt)}. If you did not ask for it, ignore this mail.\n\n${name}`;
  const html =
    `<p>${htmlText(lead)}</p><p><a href="${htmlText(link)}">${htmlText(link)}</a></p>` +
    `<p>The link works once, until ${htmlText(when(expiresAt))}. If you did not ask for it, ignore this mail.</p>` +
    `<p>${htmlText(name)}</p>`;
  return { to, subject, text, html, link };
}

export function compose(site: MailSite, message: MailMessage): ComposedMail {
  const name = site.productName;
  switch (message.kind) {
    case 'verify':
      return withLink(
        site,
        message.to,
        `${name}: confirm your email address`,
        `Follow this link to make ${message.to} the email address of your ${name} account:`,
        linkTo(site, 'verify', message.token),
        message.expiresAt,
      );
    case 'reset':
      return withLink(
        site,
        message.to,
        `${name}: set a new password`,
        `Someone asked to reset the password of your ${name} account. Follow this link to set a new one:`,
        linkTo(site, 'reset', message.token),
        message.expiresAt,
      );
    case 'email_change_notice': {
      const lead =
        `Someone signed in to your ${name} account asked to change its email address. It changes only once the ` +
        'link mailed to the new address is followed. If this was not you, change your password now.';
      return {
        to: message.to,
        subject: `${name}: a change of your email address`,
        text: `${lead}\n\n${name}`,
        html: `<p>${htmlText(lead)}</p><p>${htmlText(name)}</p>`,
      };
    }
  }
}
