import { DEFAULT_PREFIX } from "@fanfare-relay/queues/producer";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { UserCredentials } from "./auth/users.ts";

const integer = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).default(fallback);

const flag = z
  .enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .default("false")
  .transform((value) => value === "true" || value === "1");

export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/** `true`/`false`, a hop count, or a comma-separated list of trusted proxy addresses/CIDRs. */
const trustProxy = z
  .string()
  .trim()
  .default("false")
  .transform((value): TrustProxy => {
    if (value === "true") return true;
    if (value === "false" || value === "") return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      return (_address, hop) => hop < hops;
    }
    return value;
  });

export const MIN_PASSWORD_LENGTH = 8;
export const MIN_SESSION_SECRET_LENGTH = 32;

const envSchema = z.object({
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
    .default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" })
    .optional(),
  PORT: integer(0, 3001).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default("0.0.0.0"),
  TRUST_PROXY: trustProxy,
  DASHBOARD_ADMIN_USER: z.string().trim().min(1).max(200).optional(),
  DASHBOARD_ADMIN_PASSWORD: z.string().max(1000).optional(),
  DASHBOARD_VIEWER_USER: z.string().trim().min(1).max(200).optional(),
  DASHBOARD_VIEWER_PASSWORD: z.string().max(1000).optional(),
  DASHBOARD_SESSION_SECRET: z.string().optional(),
  DASHBOARD_SESSION_TTL_SECONDS: integer(60, 8 * 60 * 60),
  DASHBOARD_SECURE_COOKIE: flag,
  DASHBOARD_DEMO: flag,
  DASHBOARD_LOGIN_MAX_FAILURES: integer(1, 10),
  DASHBOARD_LOGIN_WINDOW_SECONDS: integer(1, 15 * 60),
  SHUTDOWN_TIMEOUT_MS: integer(1_000, 10_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

type RawEnv = z.infer<typeof envSchema>;

export interface DashboardEnv extends Omit<
  RawEnv,
  | "DASHBOARD_ADMIN_USER"
  | "DASHBOARD_ADMIN_PASSWORD"
  | "DASHBOARD_VIEWER_USER"
  | "DASHBOARD_VIEWER_PASSWORD"
  | "DASHBOARD_SESSION_SECRET"
> {
  users: UserCredentials[];
  sessionSecret: string;
  /** What demo mode filled in, for the start-up warning. */
  demoDefaults: ("admin" | "viewer" | "session secret")[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Demo users whose password is their name: for a laptop, never for a reachable server. */
export const DEMO_USERS = {
  admin: { username: "admin", password: "admin" },
  viewer: { username: "viewer", password: "viewer" },
} as const;

function resolveAuth(raw: RawEnv, problems: string[]) {
  const demoDefaults: DashboardEnv["demoDefaults"] = [];
  const users: UserCredentials[] = [];
  const demo = raw.DASHBOARD_DEMO;

  const admin = { user: raw.DASHBOARD_ADMIN_USER, password: raw.DASHBOARD_ADMIN_PASSWORD };
  if (admin.user !== undefined && admin.password !== undefined) {
    users.push({ username: admin.user, password: admin.password, role: "admin" });
  } else if (admin.user === undefined && admin.password === undefined && demo) {
    users.push({ ...DEMO_USERS.admin, role: "admin" });
    demoDefaults.push("admin");
  } else {
    problems.push(
      admin.user === undefined && admin.password === undefined
        ? "DASHBOARD_ADMIN_USER and DASHBOARD_ADMIN_PASSWORD: are required (or DASHBOARD_DEMO=true for demo credentials)"
        : "DASHBOARD_ADMIN_USER and DASHBOARD_ADMIN_PASSWORD: set both or neither",
    );
  }

  const viewer = { user: raw.DASHBOARD_VIEWER_USER, password: raw.DASHBOARD_VIEWER_PASSWORD };
  if (viewer.user !== undefined && viewer.password !== undefined) {
    users.push({ username: viewer.user, password: viewer.password, role: "viewer" });
  } else if (viewer.user === undefined && viewer.password === undefined) {
    if (demo && !users.some((user) => user.username === DEMO_USERS.viewer.username)) {
      users.push({ ...DEMO_USERS.viewer, role: "viewer" });
      demoDefaults.push("viewer");
    }
  } else {
    problems.push("DASHBOARD_VIEWER_USER and DASHBOARD_VIEWER_PASSWORD: set both or neither");
  }

  if (users.length === 2 && users[0]?.username === users[1]?.username) {
    problems.push("DASHBOARD_VIEWER_USER: must differ from DASHBOARD_ADMIN_USER");
  }
  if (!demo) {
    for (const user of users) {
      if (user.password.length < MIN_PASSWORD_LENGTH) {
        const name =
          user.role === "admin" ? "DASHBOARD_ADMIN_PASSWORD" : "DASHBOARD_VIEWER_PASSWORD";
        problems.push(`${name}: must be at least ${MIN_PASSWORD_LENGTH} characters`);
      }
    }
  }

  let sessionSecret = raw.DASHBOARD_SESSION_SECRET;
  if (sessionSecret === undefined && demo) {
    sessionSecret = randomBytes(32).toString("hex");
    demoDefaults.push("session secret");
  } else if (sessionSecret === undefined) {
    problems.push(
      `DASHBOARD_SESSION_SECRET: is required, at least ${MIN_SESSION_SECRET_LENGTH} characters (e.g. openssl rand -hex 32), or DASHBOARD_DEMO=true`,
    );
  } else if (sessionSecret.length < MIN_SESSION_SECRET_LENGTH) {
    problems.push(
      `DASHBOARD_SESSION_SECRET: must be at least ${MIN_SESSION_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`,
    );
  }
  return { users, sessionSecret: sessionSecret ?? "", demoDefaults };
}

/**
 * Parses the environment once, at start; every problem is reported in one message. Without admin
 * credentials and a session secret the dashboard refuses to start, unless DASHBOARD_DEMO=true.
 * Messages name variables, never their values.
 */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): DashboardEnv {
  // Empty strings (e.g. `PORT=` in a .env file) mean "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = envSchema.safeParse(present);
  const problems: string[] = [];
  if (!result.success) {
    problems.push(
      ...result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
    );
    throw configError(problems);
  }
  const {
    DASHBOARD_ADMIN_USER: _adminUser,
    DASHBOARD_ADMIN_PASSWORD: _adminPassword,
    DASHBOARD_VIEWER_USER: _viewerUser,
    DASHBOARD_VIEWER_PASSWORD: _viewerPassword,
    DASHBOARD_SESSION_SECRET: _sessionSecret,
    ...rest
  } = result.data;
  const auth = resolveAuth(result.data, problems);
  if (problems.length > 0) throw configError(problems);
  return { ...rest, ...auth };
}

const configError = (problems: string[]) =>
  new ConfigError(
    `Invalid dashboard configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
  );
