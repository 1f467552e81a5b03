import { createTransport } from 'nodemailer';
import pRetry from 'p-retry';
import type { Mailer } from '../../core/context.js';
import { compose, type MailSite } from './messages.js';

export interface MailerSettings extends MailSite {
  smtpUrl?: string;
  from: string;
  logOnly: boolean;
}

interface MailLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a failed delivery says without naming its recipient: nodemailer's error code and the SMTP reply code. */
function smtpFailure(err: unknown): { code?: string; responseCode?: number } {
  const { code, responseCode } = (err ?? {}) as { code?: unknown; responseCode?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof responseCode === 'number' ? { responseCode } : {}),
  };
}

/** Tries after a failed delivery: three more, half a second apart and doubling, so a shutdown can wait them out. */
const RETRIES = { retries: 3, minTimeout: 500, factor: 2 };

/**
 * Mail over SMTP (nodemailer), sent after the answer: the caller never waits for it and never learns whether it
 * went (a forgot-password answer must not). A failed delivery is retried, then logged, without its address.
 * Without SMTP in development, each mail is one log line with its link instead; in production, none goes.
 */
export function createMailer(
  settings: MailerSettings,
  log: MailLog,
  later: (task: () => Promise<void>) => void,
): Mailer & { close(): void } {
  const transport =
    settings.smtpUrl === undefined
      ? undefined
      : createTransport({
          url: settings.smtpUrl,
          connectionTimeout: 5000,
          greetingTimeout: 5000,
          socketTimeout: 10_000,
        });
  return {
    available: transport !== undefined || settings.logOnly,
    send(message) {
      const mail = compose(settings, message);
      if (!transport) {
        if (settings.logOnly) {
          // The operator chose this by configuring no SMTP outside production: the link is where they can see it.
          log.info(
            { mail: message.kind, to: mail.to, link: mail.link },
            `mail not sent (no SMTP_URL): ${mail.subject}`,
          );
        }
        return;
      }
      later(() =>
        pRetry(
          () =>
            transport.sendMail({
              from: settings.from,
              to: mail.to,
              subject: mail.subject,
              text: mail.text,
              html: mail.html,
            }),
          RETRIES,
        ).then(
          () => undefined,
          // Not the error itself: nodemailer's carries the envelope and the server's reply, the address in both.
          (err: unknown) => log.error({ mail: message.kind, ...smtpFailure(err) }, 'mail could not be sent'),
        ),
      );
    },
    close: () => transport?.close(),
  };
}
