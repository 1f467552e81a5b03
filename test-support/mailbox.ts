import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a free loopback port that keeps every message it accepts, parsed. */
export interface Mailbox {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  messages: ParsedMail[];
  /** The next message to `to` not taken yet; waits for it (at most `timeoutMs`). */
  next(to: string, timeoutMs?: number): Promise<ParsedMail>;
  /** Refuses the next `n` deliveries with a temporary error (451), as a busy server would. */
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const messages: ParsedMail[] = [];
  const taken = new Set<ParsedMail>();
  let failures = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      if (failures > 0) {
        failures--;
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('Try again later'), { responseCode: 451 })));
        return;
      }
      simpleParser(stream).then(
        (mail) => {
          messages.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('the mailbox has no port');
  const recipients = (mail: ParsedMail) => [mail.to ?? []].flat().flatMap((to) => to.value.map((a) => a.address));
  return {
    url: `smtp://127.0.0.1:${address.port}`,
    messages,
    async next(to, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = messages.find((m) => !taken.has(m) && recipients(m).includes(to));
        if (mail) {
          taken.add(mail);
          return mail;
        }
        if (Date.now() > deadline) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    failNext(n) {
      failures = n;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The token of the dashboard link a mail carries (`…/dashboard/#/reset?token=…`), and the page it opens. */
export function linkOf(mail: ParsedMail): { page: string; token: string; url: string } {
  const match = /(https?:\/\/\S+\/dashboard\/#\/(\w+)\?token=([^\s"<]+))/.exec(mail.text ?? '');
  if (!match) throw new Error(`no link in: ${mail.text}`);
  return { url: match[1] as string, page: match[2] as string, token: decodeURIComponent(match[3] as string) };
}
