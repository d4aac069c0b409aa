import { CliError } from "../cli-error.ts";

export interface Override {
  path: string[];
  value: unknown;
}

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** `data.consumerId=con_x`: the value is JSON when it parses as JSON (5, null, [..]), else a string. */
export function parseOverride(text: string): Override {
  const equals = text.indexOf("=");
  const path = equals > 0 ? text.slice(0, equals).split(".") : [];
  if (path.length === 0 || path.some((key) => key === "")) {
    throw new CliError(
      "CLI_BAD_OVERRIDE",
      `--set expects <dotted.path>=<value>, e.g. data.consumerId=con_x; got "${text}"`,
    );
  }
  const forbidden = path.find((key) => FORBIDDEN_KEYS.has(key));
  if (forbidden !== undefined) {
    throw new CliError("CLI_BAD_OVERRIDE", `--set cannot write a "${forbidden}" key`);
  }
  const raw = text.slice(equals + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the plain string is meant.
  }
  return { path, value };
}

type Container = Record<string | number, unknown>;

const isContainer = (value: unknown): value is Container =>
  typeof value === "object" && value !== null;

/** A copy of `event` with the overrides applied in order; missing objects on a path are created. */
export function applyOverrides<T extends object>(event: T, overrides: readonly Override[]): T {
  const copy = structuredClone(event);
  for (const { path, value } of overrides) {
    let target = copy as Container;
    for (const [index, key] of path.entries()) {
      const slot = Array.isArray(target) ? Number(key) : key;
      if (typeof slot === "number" && !(Number.isInteger(slot) && slot >= 0)) {
        throw new CliError(
          "CLI_BAD_OVERRIDE",
          `--set ${path.join(".")}: "${key}" is not an index of the array at that point`,
        );
      }
      if (index === path.length - 1) {
        target[slot] = value;
        break;
      }
      const next = target[slot];
      if (isContainer(next)) {
        target = next;
      } else {
        const created: Container = {};
        target[slot] = created;
        target = created;
      }
    }
  }
  return copy;
}
