// An SMTP server in the benchmark's process that only counts what it receives: the test suite's
// catcher parses and keeps every mail, which at tens of thousands of mails would cost the
// benchmark's own CPU and memory on the cores the measured processes share.
import { SMTPServer } from "smtp-server";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

export interface CountingSmtp {
  url: string;
  /** Mails fully received (DATA accepted). */
  readonly received: number;
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1, accepts every mail and counts it. */
export async function startCountingSmtp(): Promise<CountingSmtp> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      stream.on("data", () => undefined);
      stream.on("end", () => {
        received += 1;
        callback();
      });
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${String(port)}`,
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
