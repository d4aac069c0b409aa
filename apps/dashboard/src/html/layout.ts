import escapeHtml from "escape-html";
import { atBase } from "../base-path.ts";

export interface PageUser {
  username: string;
  role: string;
}

const styles = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; background: Canvas; color: CanvasText; }
  header { display: flex; gap: 1.25rem; align-items: center; padding: .75rem 1.5rem;
    border-bottom: 1px solid #8884; }
  header .who { margin-left: auto; opacity: .8; }
  header form { margin: 0; }
  main { padding: 1.5rem; max-width: 80rem; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #8884; vertical-align: top; }
  td.error { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
  .notice { padding: .75rem 1rem; border: 1px solid #c9a22780; background: #c9a22720; border-radius: .4rem; }
  .login { max-width: 22rem; margin: 10vh auto; padding: 1.5rem; border: 1px solid #8884; border-radius: .5rem; }
  .login label { display: block; margin: .75rem 0 .25rem; }
  .login input { width: 100%; box-sizing: border-box; padding: .45rem; font-size: 1rem; }
  .login button { margin-top: 1.25rem; padding: .5rem 1rem; font-size: 1rem; }
  .alert { color: #c0392b; font-weight: 600; }
  .demo { padding: .3rem 1.5rem; background: #b45309; color: #fff; font-weight: 600; font-size: .85rem; }
`;

export interface PageOptions {
  /** Shown in the header, with the navigation and a Log out button; none on the login page. */
  user?: PageUser | undefined;
  /** Adds the banner that Bull Board shows as its DEMO environment badge (same colour). */
  demo?: boolean;
  /** DASHBOARD_BASE_PATH: the header's links and form lead there. */
  basePath: string;
}

/** A whole page; `body` must already be escaped HTML. Self-contained: no assets to authenticate. */
export function page(
  title: string,
  body: string,
  { user, demo = false, basePath }: PageOptions,
): string {
  const to = (path: string) => escapeHtml(atBase(basePath, path));
  const banner = demo
    ? `<div class="demo" role="note">DEMO: demo users and data; never expose this dashboard</div>`
    : "";
  const header = user
    ? `<header>
  <strong>Fanfare Relay</strong>
  <a href="${to("/")}">Queues</a>
  <a href="${to("/dead-letters")}">Dead letters</a>
  <span class="who">${escapeHtml(user.username)} (${escapeHtml(user.role)})</span>
  <form method="post" action="${to("/logout")}"><button type="submit">Log out</button></form>
</header>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Fanfare Relay</title>
<style>${styles}</style>
</head>
<body>
${banner}
${header}
${body}
</body>
</html>
`;
}
