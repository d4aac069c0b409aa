import fastifySecureSession from "@fastify/secure-session";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hkdfSync } from "node:crypto";
import type { User, UserDirectory } from "./users.ts";

declare module "@fastify/secure-session" {
  interface SessionData {
    user: string;
    fingerprint: string;
  }
}

export const SESSION_COOKIE = "fanfare_dashboard_session";

/** A 32-byte secretbox key from the configured secret, so any long random string will do. */
export function deriveSessionKey(secret: string): Buffer {
  return Buffer.from(
    hkdfSync("sha256", secret, "fanfare-relay-dashboard", "session-cookie-key", 32),
  );
}

export interface SessionOptions {
  key: Buffer;
  secureCookie: boolean;
  ttlSeconds: number;
  /** DASHBOARD_BASE_PATH: the cookie is sent only there. */
  basePath: string;
}

/** An encrypted, authenticated cookie holding the user name: nothing to store server-side. */
export async function registerSession(app: FastifyInstance, options: SessionOptions) {
  await app.register(fastifySecureSession, {
    key: options.key,
    cookieName: SESSION_COOKIE,
    // Checked on every request from the time stamp sealed inside the cookie.
    expiry: options.ttlSeconds,
    cookie: {
      path: options.basePath,
      httpOnly: true,
      sameSite: "lax",
      secure: options.secureCookie,
      maxAge: options.ttlSeconds,
    },
  });
}

export function startSession(request: FastifyRequest, user: User) {
  // A fresh session on every login: nothing set before it survives (no session fixation).
  request.session.regenerate();
  request.session.set("user", user.username);
  request.session.set("fingerprint", user.fingerprint);
}

export function sessionUser(request: FastifyRequest, users: UserDirectory): User | undefined {
  return users.fromSession(request.session.get("user"), request.session.get("fingerprint"));
}
