import escapeHtml from "escape-html";
import { atBase } from "../base-path.ts";
import { page } from "./layout.ts";

export interface LoginPageOptions {
  /** Where to go after logging in; already checked to be a local path. */
  next: string;
  message?: string | undefined;
  username?: string | undefined;
  /** DASHBOARD_BASE_PATH: the form posts to `<base>login`. */
  basePath: string;
}

export function loginPage({ next, message, username = "", basePath }: LoginPageOptions): string {
  const alert = message ? `<p class="alert" role="alert">${escapeHtml(message)}</p>` : "";
  return page(
    "Log in",
    `<main class="login">
  <h1>Fanfare Relay</h1>
  <p>Operators' dashboard</p>
  ${alert}
  <form method="post" action="${escapeHtml(atBase(basePath, "/login"))}">
    <input type="hidden" name="next" value="${escapeHtml(next)}">
    <label for="username">User name</label>
    <input id="username" name="username" autocomplete="username" required value="${escapeHtml(username)}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Log in</button>
  </form>
</main>`,
    { basePath },
  );
}

/**
 * Only a path of this dashboard (under `basePath`, DASHBOARD_BASE_PATH), else `basePath`: never
 * `//host` or `/\host`, which browsers read as another origin, nor another application's path.
 */
export function safeNext(value: unknown, basePath: string): string {
  if (typeof value !== "string" || value.length > 2000) return basePath;
  if (!value.startsWith(basePath) || value.startsWith("//") || value.startsWith("/\\")) {
    return basePath;
  }
  if (value.includes("\\") || hasControlCharacter(value)) return basePath;
  return value;
}

function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
