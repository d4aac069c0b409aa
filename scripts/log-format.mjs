// How `pnpm start` (scripts/start.mjs) prints the apps' output: every app writes pino JSON lines
// (the default everywhere), and this turns each into one readable line with pino-pretty, unless
// LOG_FORMAT=json asks for the raw lines (e.g. to pipe them to jq).
import { prettyFactory } from "pino-pretty";

/** The values LOG_FORMAT accepts; unset or empty means "pretty". */
export const LOG_FORMATS = ["pretty", "json"];

/**
 * The LOG_FORMAT to use for `value` (unset or empty: "pretty"), or undefined when it is not one
 * of LOG_FORMATS (the caller names it and stops).
 */
export function logFormatOf(value) {
  const format = value === undefined || value === "" ? "pretty" : value.toLowerCase();
  return LOG_FORMATS.includes(format) ? format : undefined;
}

/**
 * A function from one line an app printed (without its newline) to what to print instead: for
 * "pretty", a pino JSON line becomes `[HH:MM:ss.l] LEVEL: msg {useful fields}` (an error's stack on
 * the lines after it), coloured when `colorize`; anything else (plain text, JSON that is not a
 * pino record) comes back unchanged, as does every line for "json". The result may hold several
 * lines (an error's stack), never a trailing newline.
 *
 * @param {{ format?: "pretty" | "json", colorize?: boolean }} options
 * @returns {(line: string) => string}
 */
export function createLineFormatter({ format = "pretty", colorize = false } = {}) {
  if (format === "json") return (line) => line;
  const pretty = prettyFactory({
    colorize,
    // The local wall-clock time is enough on a developer's terminal; the JSON keeps the epoch.
    translateTime: "SYS:HH:MM:ss.l",
    // The same on every line of one process (the prefix already names the app).
    ignore: "pid,hostname",
    singleLine: true,
  });
  return (line) => {
    if (!line.startsWith("{")) return line;
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      return line;
    }
    // pino's records always carry a numeric level and a time; other JSON is printed as it came.
    if (typeof record?.level !== "number" || record.time === undefined) return line;
    return pretty(record).replace(/\n+$/, "");
  };
}

/**
 * `line` with the app's `[name]` in front, in ANSI colour `color` (e.g. 36 for cyan) when
 * `colorize`; every line of a multi-line `line` gets the prefix.
 */
export function prefixLines(name, color, line, colorize) {
  const prefix = colorize ? `\x1b[${color}m[${name}]\x1b[0m` : `[${name}]`;
  return line
    .split("\n")
    .map((part) => `${prefix} ${part}\n`)
    .join("");
}
