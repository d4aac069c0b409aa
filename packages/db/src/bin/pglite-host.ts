// `pnpm --filter @fanfare-relay/db pglite`: serves an embedded PostgreSQL that every local process
// (ingest, workers, dashboard) shares through DATABASE_URL, brought up to date first.
import { resolve } from "node:path";
import { z } from "zod";
import { connect } from "../connect.ts";
import { migrateToLatest } from "../migrate.ts";
import { startPgliteHost } from "../pglite-host.ts";

const env = z
  .object({
    PGLITE_DATA_DIR: z.string().min(1).default(".data/pglite"),
    PGLITE_PORT: z.coerce.number().int().min(0).max(65535).default(5433),
    PGLITE_HOST: z.string().min(1).default("127.0.0.1"),
  })
  .safeParse(process.env);
if (!env.success) {
  const issues = env.error.issues.map((i) => `${i.path.join(".")} ${i.message}`);
  process.stderr.write(`${issues.join("\n")}\n`);
  process.exit(1);
}

const report = (error: unknown) =>
  process.stderr.write(`pglite: ${error instanceof Error ? error.message : String(error)}\n`);

const { url, stop } = await startPgliteHost({
  dataDir: resolve(env.data.PGLITE_DATA_DIR),
  host: env.data.PGLITE_HOST,
  port: env.data.PGLITE_PORT,
  onError: report,
}).catch((error: unknown) => {
  report(error);
  process.exit(1);
});

const shutdown = () => {
  stop().then(
    () => process.exit(0),
    (error: unknown) => {
      report(error);
      process.exit(1);
    },
  );
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);

const db = connect({ connectionString: url, max: 1 });
try {
  await migrateToLatest(db);
} catch (error) {
  report(error);
  await db.destroy();
  await stop();
  process.exit(1);
}
await db.destroy();
process.stdout.write(`pglite listening on ${url}\n`);
