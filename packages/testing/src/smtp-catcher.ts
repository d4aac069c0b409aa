import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

export interface CaughtMail {
  /** The message as received (RFC 5322), e.g. to save as an .eml file. */
  raw: Buffer;
  messageId: string | undefined;
  to: string[];
  from: string | undefined;
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
}

export interface SmtpCatcher {
  url: string;
  port: number;
  mails: CaughtMail[];
  /**
   * Recipients (lower case) the server refuses with `550 5.1.1 <address>: user unknown`, as a
   * real one does for a mailbox that does not exist. Add and delete at any time.
   */
  refusedRecipients: Set<string>;
  /** Resolves once at least `count` mails have arrived (rejects after `timeoutMs`). */
  waitForMails(count: number, timeoutMs?: number): Promise<CaughtMail[]>;
  /** Stops listening: clients get "connection refused", as with an SMTP server that is down. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function addresses(mail: ParsedMail): string[] {
  const to = mail.to === undefined ? [] : Array.isArray(mail.to) ? mail.to : [mail.to];
  return to.flatMap((entry) => entry.value.map((address) => address.address ?? ""));
}

/** A real SMTP server in the test process that keeps what it receives. */
export async function startSmtpCatcher(
  port = 0,
  onMail?: (mail: CaughtMail) => void,
  host = "127.0.0.1",
): Promise<SmtpCatcher> {
  const mails: CaughtMail[] = [];
  const refusedRecipients = new Set<string>();
  const waiters: { count: number; resolve: () => void }[] = [];
  let server: SMTPServer | undefined;
  let boundPort = port;

  const notify = () => {
    for (const waiter of [...waiters]) {
      if (mails.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  async function listen() {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      // Stopping cuts pooled client connections quickly, as a crashed server would.
      closeTimeout: 200,
      onRcptTo(address, _session, callback) {
        if (!refusedRecipients.has(address.address.toLowerCase())) {
          callback();
          return;
        }
        const refusal = new Error(
          `5.1.1 <${address.address}>: Recipient address rejected: user unknown`,
        );
        (refusal as Error & { responseCode: number }).responseCode = 550;
        callback(refusal);
      },
      onData(stream, _session, callback) {
        readAll(stream)
          .then(async (raw) => ({ raw, mail: await simpleParser(raw) }))
          .then(({ raw, mail }) => {
            const caught: CaughtMail = {
              raw,
              messageId: mail.messageId,
              to: addresses(mail),
              from: mail.from?.text,
              subject: mail.subject,
              text: mail.text,
              html: typeof mail.html === "string" ? mail.html : undefined,
            };
            mails.push(caught);
            notify();
            onMail?.(caught);
            callback();
          })
          .catch((error: unknown) => {
            callback(error instanceof Error ? error : new Error(String(error)));
          });
      },
    });
    server.listen(boundPort, host);
    await once(server.server, "listening");
    boundPort = (server.server.address() as AddressInfo).port;
  }

  await listen();
  return {
    get url() {
      return `smtp://127.0.0.1:${String(boundPort)}`;
    },
    get port() {
      return boundPort;
    },
    mails,
    refusedRecipients,
    waitForMails(count, timeoutMs = 10_000) {
      if (mails.length >= count) return Promise.resolve(mails);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`expected ${String(count)} mails, got ${String(mails.length)}`));
        }, timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(mails);
          },
        });
      });
    },
    async stop() {
      const current = server;
      server = undefined;
      if (current !== undefined)
        await new Promise<void>((resolve) => {
          current.close(() => {
            resolve();
          });
        });
    },
    start: listen,
  };
}
