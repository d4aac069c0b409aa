// A local SMTP server for `pnpm start`: keeps every mail the workers send as an .eml file (open
// it in any mail client) and prints one line per mail. Not for production.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { startSmtpCatcher } from "../smtp-catcher.ts";

const env = z
  .object({
    MAIL_CATCHER_PORT: z.coerce.number().int().min(0).max(65535).default(1025),
    MAIL_CATCHER_DIR: z.string().min(1).default(".data/mail"),
  })
  .parse(process.env);

const dir = resolve(env.MAIL_CATCHER_DIR);
mkdirSync(dir, { recursive: true });
let count = 0;
const catcher = await startSmtpCatcher(env.MAIL_CATCHER_PORT, (mail) => {
  count += 1;
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${String(count)}.eml`);
  writeFileSync(file, mail.raw);
  process.stdout.write(`mail to ${mail.to.join(", ")}: ${mail.subject ?? ""} (${file})\n`);
});
process.stdout.write(`mail catcher listening on ${catcher.url}, saving to ${dir}\n`);

const stop = () => {
  void catcher.stop().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
