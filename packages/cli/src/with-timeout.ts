import { CliError } from "./cli-error.ts";

/** Rejects when `promise` has not settled within `ms`; the timer never keeps the process alive. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new CliError("CLI_TIMEOUT", `${what}: no answer within ${formatSeconds(ms)}`));
    }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const formatSeconds = (ms: number) => `${String(Math.round(ms / 100) / 10)} s`;

export const errorMessage = (error: unknown) =>
  error instanceof Error ? error.message : String(error);
