import { randomBytes } from "node:crypto";
import {
  ConfigError,
  configError,
  databaseUrl,
  flag,
  integer,
  logLevel,
  port,
  presentValues,
  problemsOf,
  trustProxy,
} from "@fanfare-relay/config/env-fields";
import { checkRedisEnv, redisEnvFields } from "@fanfare-relay/config/redis-env";
import { z } from "zod";
import { basePathProblem, normaliseBasePath } from "./base-path.ts";

export { ConfigError };
export type { TrustProxy } from "@fanfare-relay/config/env-fields";
import type { UserCredentials } from "./auth/users.ts";

export const MIN_PASSWORD_LENGTH = 8;
export const MIN_SESSION_SECRET_LENGTH = 32;

const envSchema = z
  .object({
    ...redisEnvFields,
    DATABASE_URL: databaseUrl,
    PORT: port(3001),
    HOST: z.string().min(1).default("0.0.0.0"),
    TRUST_PROXY: trustProxy,
    // Behind a reverse proxy at e.g. /fanfare/, which forwards the full path (see base-path.ts).
    DASHBOARD_BASE_PATH: z
      .string()
      .trim()
      .default("/")
      .transform((value, context) => {
        const problem = basePathProblem(value);
        if (problem === undefined) return normaliseBasePath(value);
        context.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }),
    DASHBOARD_ADMIN_USER: z.string().trim().min(1).max(200).optional(),
    DASHBOARD_ADMIN_PASSWORD: z.string().max(1000).optional(),
    DASHBOARD_VIEWER_USER: z.string().trim().min(1).max(200).optional(),
    DASHBOARD_VIEWER_PASSWORD: z.string().max(1000).optional(),
    DASHBOARD_SESSION_SECRET: z.string().optional(),
    DASHBOARD_SESSION_TTL_SECONDS: integer(60, 8 * 60 * 60),
    DASHBOARD_SECURE_COOKIE: flag(false),
    DASHBOARD_DEMO: flag(false),
    DASHBOARD_LOGIN_MAX_FAILURES: integer(1, 10),
    DASHBOARD_LOGIN_WINDOW_SECONDS: integer(1, 15 * 60),
    SHUTDOWN_TIMEOUT_MS: integer(1_000, 10_000),
    LOG_LEVEL: logLevel,
    NODE_ENV: z.string().optional(),
  })
  .superRefine(checkRedisEnv)
  .superRefine((env, context) => {
    // Demo logins are admin/admin: never on a production deployment (the images set NODE_ENV).
    if (env.NODE_ENV === "production" && env.DASHBOARD_DEMO) {
      context.addIssue({
        code: "custom",
        path: ["DASHBOARD_DEMO"],
        message:
          "is refused with NODE_ENV=production (demo logins admin/admin): set DASHBOARD_ADMIN_USER, DASHBOARD_ADMIN_PASSWORD and DASHBOARD_SESSION_SECRET",
      });
    }
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

/** The admin's user name when only DASHBOARD_ADMIN_PASSWORD is set. */
export const DEFAULT_ADMIN_USER = "admin";

/** Demo users whose password is their name: for a laptop, never for a reachable server. */
export const DEMO_USERS = {
  admin: { username: "admin", password: "admin" },
  viewer: { username: "viewer", password: "viewer" },
} as const;

function resolveAuth(raw: RawEnv, problems: string[]) {
  const demoDefaults: DashboardEnv["demoDefaults"] = [];
  const users: UserCredentials[] = [];
  const demo = raw.DASHBOARD_DEMO;

  // A password alone logs in as "admin" (the name .env.example and docker-compose suggest).
  const admin = {
    user:
      raw.DASHBOARD_ADMIN_USER ??
      (raw.DASHBOARD_ADMIN_PASSWORD === undefined ? undefined : DEFAULT_ADMIN_USER),
    password: raw.DASHBOARD_ADMIN_PASSWORD,
  };
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
  const result = envSchema.safeParse(presentValues(env));
  const problems: string[] = [];
  if (!result.success) {
    throw configError("dashboard", problemsOf(result.error));
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
  if (problems.length > 0) throw configError("dashboard", problems);
  return { ...rest, ...auth };
}
