// Builds one app's production artifact, as the Dockerfile does:
//   node scripts/build-app.mjs <app> <out-dir>      (app: ingest, dashboard, worker-queue, …)
// 1. tsc compiles the app and every workspace package it uses to their dist/ (turbo, in order);
// 2. `pnpm deploy --prod` copies the app's dist/ and package.json to <out-dir> with its production
//    dependencies in <out-dir>/node_modules, the workspace packages reduced to their dist/ (their
//    package.json "files"). Run it with `NODE_ENV=production node dist/main.js` from <out-dir>.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const [app, out] = process.argv.slice(2);
if (!app || !out) {
  console.error("usage: node scripts/build-app.mjs <app> <out-dir>");
  process.exit(2);
}
if (!existsSync(`${root}apps/${app}/package.json`)) {
  console.error(`no app apps/${app}: use ingest, dashboard or worker-<family>`);
  process.exit(2);
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

const pkg = `@fanfare-relay/${app}`;
run("pnpm", ["exec", "turbo", "run", "build", `--filter=${pkg}...`, "--output-logs=errors-only"]);
// pnpm deploy refuses a non-empty target.
rmSync(out, { recursive: true, force: true });
run("pnpm", ["--filter", pkg, "--prod", "deploy", out]);
