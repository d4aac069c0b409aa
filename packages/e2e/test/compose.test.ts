import { load } from "js-yaml";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// No Docker engine in CI: the compose file and the Dockerfile are checked as text against the
// apps' sources, so a renamed variable or route breaks this test rather than a deployment.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");

interface Service {
  image?: string;
  build?: { args?: Record<string, string> };
  environment?: Record<string, string | number | boolean | null>;
  env_file?: (string | { path: string; required?: boolean })[] | string;
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  command?: string[] | string;
}

const compose = load(read("docker-compose.yml")) as { services: Record<string, Service> };
const dockerfile = read("Dockerfile");

/** Upper-case keys of the zod objects in a source file (`NAME: z…`, `NAME: flag(…)`, …). */
function envNames(path: string): Set<string> {
  return new Set([...read(path).matchAll(/^\s+([A-Z][A-Z0-9_]+):\s/gm)].map((m) => m[1] ?? ""));
}

const redisNames = envNames("packages/config/src/redis-env.ts");
const withRedis = (path: string) => new Set([...redisNames, ...envNames(path)]);
const workerNames = withRedis("packages/worker/src/worker-env.ts");
const schemaOf: Record<string, Set<string>> = {
  ingest: withRedis("apps/ingest/src/env.ts"),
  dashboard: withRedis("apps/dashboard/src/env.ts"),
};

/** Paths each app answers with a GET, read from its health routes. */
function routes(path: string): Set<string> {
  return new Set([...read(path).matchAll(/(?:get\(|")(\/[a-z]+)"/g)].map((m) => m[1] ?? ""));
}
const workerRoutes = routes("packages/worker/src/health-server.ts");
const routesOf: Record<string, Set<string>> = {
  ingest: routes("apps/ingest/src/routes/health.ts"),
  dashboard: routes("apps/dashboard/src/routes/health.ts"),
};

// App services run an app's main; the migrate step uses a worker image for another command.
const apps = Object.entries(compose.services).filter(
  ([name, service]) => service.build?.args?.APP !== undefined && name !== "migrate",
);
const appOf = (service: Service) => service.build?.args?.APP ?? "";

describe("guarantee: docker-compose.yml matches the apps", () => {
  it("app services found, ≥ 7 (ingest, dashboard, five workers) → every one is checked", () => {
    expect(apps.map(([name]) => name).sort()).toEqual(
      [
        "dashboard",
        "ingest",
        "worker-auction",
        "worker-consumer",
        "worker-draw",
        "worker-experience",
        "worker-queue",
      ].sort(),
    );
  });

  it("each app service's variables, checked against its env schema → none unknown", () => {
    const unknown = apps.flatMap(([name, service]) => {
      const schema = schemaOf[appOf(service)] ?? workerNames;
      return Object.keys(service.environment ?? {})
        .filter((key) => !schema.has(key))
        .map((key) => `${name}: ${key}`);
    });
    expect(unknown).toEqual([]);
  });

  it("each app service, .env as an optional env_file and an explicit PORT → every README setting reaches it", () => {
    for (const [name, service] of apps) {
      const files = [service.env_file ?? []].flat();
      expect(files, name).toContainEqual({ path: ".env", required: false });
      expect(service.environment?.PORT, name).toMatch(/^\d+$/);
    }
  });

  it("health checks, each app's path and PORT → served by the app it runs", () => {
    // The image's HEALTHCHECK applies wherever compose does not set one.
    const image =
      /HEALTHCHECK[\s\S]*?127\.0\.0\.1:'\+\(process\.env\.PORT\|\|\d+\)\+'(\/[a-z]+)'/.exec(
        dockerfile,
      );
    expect(image, "Dockerfile HEALTHCHECK fetches 127.0.0.1:$PORT/<path>").not.toBeNull();
    for (const [name, service] of apps) {
      const served = routesOf[appOf(service)] ?? workerRoutes;
      const port = String(service.environment?.PORT);
      const own = service.healthcheck;
      if (own?.disable === true) throw new Error(`${name}: health check disabled`);
      const test = own?.test === undefined ? undefined : [own.test].flat().join(" ");
      const url = test === undefined ? undefined : /127\.0\.0\.1:(\d+)(\/[a-z]+)/.exec(test);
      if (test !== undefined) expect(url, `${name}: ${test}`).not.toBeNull();
      expect(served, name).toContain(url?.[2] ?? image?.[1]);
      if (url) expect(url[1], name).toBe(port);
      for (const published of service.ports ?? []) {
        expect(published.split(":").at(-1), `${name}: ${published}`).toBe(port);
      }
    }
  });

  it("the mail catcher, profiles and published ports → dev only, on 127.0.0.1", () => {
    const mail = Object.entries(compose.services).filter(([name, service]) =>
      /mail/i.test(`${name} ${service.image ?? ""}`),
    );
    expect(mail.length).toBeGreaterThan(0);
    for (const [name, service] of mail) {
      expect(service.profiles, name).toEqual(["dev"]);
      for (const published of service.ports ?? []) {
        expect(published, name).toMatch(/^127\.0\.0\.1:/);
      }
    }
  });

  it("the dashboard's depends_on → PostgreSQL healthy and migrations completed", () => {
    const dependsOn = compose.services.dashboard?.depends_on;
    expect(dependsOn).toMatchObject({
      postgres: { condition: "service_healthy" },
      migrate: { condition: "service_completed_successfully" },
    });
  });

  it("FANFARE_WEBHOOK_SECRETS, default and demo secret → required, the demo secret refused", () => {
    const ingest = compose.services.ingest;
    expect(String(ingest?.environment?.FANFARE_WEBHOOK_SECRETS)).toMatch(
      /^\$\{FANFARE_WEBHOOK_SECRETS:\?/,
    );
    // The ingest refuses the demo secret under NODE_ENV=production (apps/ingest's env test), which
    // the image sets and nothing in compose overrides.
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production$/m);
    expect(ingest?.environment).not.toHaveProperty("NODE_ENV");
    expect(ingest?.command).toBeUndefined();
  });

  it("the migrate step's command → a compiled file that the worker image's build emits", () => {
    const command = [compose.services.migrate?.command ?? []].flat();
    expect(command.slice(0, 1)).toEqual(["node"]);
    const emitted = /^node_modules\/@fanfare-relay\/db\/dist\/(.+)\.js$/.exec(command[1] ?? "");
    expect(emitted, command.join(" ")).not.toBeNull();
    expect(existsSync(`${root}packages/db/src/${emitted?.[1] ?? ""}.ts`)).toBe(true);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  });

  it("Dockerfile ARG APP, built without it → fails with a message", () => {
    expect(dockerfile).toMatch(/test -n "\$APP" \|\| \(echo "[^"]*--build-arg APP=[^"]*"/);
  });
});
