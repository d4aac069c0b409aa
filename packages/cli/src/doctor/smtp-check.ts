import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";
import { errorMessage } from "../with-timeout.ts";
import { fail, ok, type CheckResult } from "./check.ts";

export const SMTP_ADVICE =
  "start the mail server or point SMTP_URL (--smtp-url) at one, with its user and password if it needs them; until then workers retry every mail";

/** Connects, says EHLO (and logs in when the URL has credentials), then hangs up. */
export async function checkSmtp(
  url: string,
  where: string,
  timeoutMs: number,
): Promise<CheckResult> {
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } satisfies SMTPTransport.Options);
  try {
    await transport.verify();
    return ok("smtp", `${where} answers EHLO`);
  } catch (error) {
    return fail("smtp", `${where}: ${errorMessage(error)}`, SMTP_ADVICE);
  } finally {
    transport.close();
  }
}
